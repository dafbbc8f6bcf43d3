/*
 * The console's page: the board (every program's scopes, auto-refreshing), the incidents, and an
 * incident with its timeline picture and progress; forms for pause, resume and restore requests,
 * and approvals. Every command goes to the console's own server (/api/operator), which sends it
 * through the operator API as the operator: the page holds no credentials and decides nothing.
 *
 * Text from the ledger (reasons, messages, names) is written by other people: it is only ever set
 * as text (never as markup), isolated for bidi (<bdi>), with control and format characters shown
 * as escapes, as the CLI shows them.
 */
import { terminalSafe } from '../../safe-text.ts';
import { layoutTimeline } from '../../documents/timeline-layout.ts';
import { remainingText } from '../../../../../shared/domain/breach-clock.ts';
import type { IncidentListView, IncidentView, RequestSummary, StatusView } from '../../../../../shared/killswitch/views.ts';
import type { TimelineEntry } from '../../../../../shared/schemas/ledger.ts';

type Failure = { ok: false; error: { kind: string; message: string; issues?: { path: string; message: string }[] } };
type Envelope<T> = { ok: true; result: T } | Failure;
interface Session {
  /** What every command carries (Authorization: Bearer); kept in sessionStorage, which only this origin (port included) reads. */
  secret: string;
  /** This run of the console: every answer must carry it (a stale tab must not trust whoever has the port now). */
  run: string;
  identity: string;
  target: string;
  refreshSeconds: number;
}

// ---------------------------------------------------------------------------------------------
// DOM, safely: children are text unless they are nodes; attributes are set as attributes.

type Child = Node | string | number | false | null | undefined;
type Attrs = Record<string, string | number | boolean | undefined | ((event: Event) => void)>;

function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(name.replace(/^on/, ''), value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el: Node, children: Child[]): void {
  for (const c of children) {
    if (c === false || c === null || c === undefined) continue;
    el.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
}

const SVG = 'http://www.w3.org/2000/svg';
function s(tag: string, attrs: Record<string, string | number> = {}, ...children: Child[]): SVGElement {
  const el = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, String(value));
  append(el, children);
  return el;
}

/** Someone else's text: isolated, with invisible characters made visible. */
const untrusted = (text: string | undefined) => (text === undefined || text === '' ? '—' : h('bdi', {}, terminalSafe(text)));

const main = () => document.getElementById('main')!;
function announce(text: string): void {
  const el = document.getElementById('announcer')!;
  el.textContent = '';
  // A new text node each time, so that a repeated message is announced again.
  setTimeout(() => (el.textContent = text), 50);
}

const time = (iso: string | undefined) => (iso ? new Date(iso).toLocaleString(undefined, { hour12: false }) : '—');
/** To the millisecond: the steps of an incident are often less than a second apart. */
const instant = (iso: string) =>
  new Date(iso).toLocaleString(undefined, {
    hour12: false,
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    fractionalSecondDigits: 3,
  });
function ago(iso: string, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 90) return `${s} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  if (s < 129600) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}
/** A person's short name from an ARN (…/alice), for labels; the full ARN stays in the title. */
const personOf = (arn: string | undefined) => (arn ? (arn.split('/').pop() ?? arn) : '—');

function statusBadge(status: string): HTMLElement {
  return h('span', { class: `badge badge-${status.toLowerCase()}` }, status);
}

function failureBox(failure: Failure['error']): HTMLElement {
  return h(
    'div',
    { class: 'error', role: 'alert' },
    h('p', {}, h('strong', {}, failure.kind === 'REFUSED' ? 'Refused: ' : 'Error: '), terminalSafe(failure.message)),
    failure.issues?.length
      ? h(
          'ul',
          {},
          ...failure.issues
            .filter((i) => !failure.message.includes(i.message))
            .map((i) => h('li', {}, terminalSafe(`${i.path}: ${i.message}`))),
        )
      : null,
  );
}

// ---------------------------------------------------------------------------------------------
// The operator API, through the console's server.

const SESSION_KEY = 'killswitch-console-session';
let session: Session | undefined;
const PAGE_HEADERS = { 'content-type': 'application/json', 'x-killswitch-console': '1' };

async function call<T>(command: Record<string, unknown>): Promise<Envelope<T>> {
  try {
    const response = await fetch('/api/operator', {
      method: 'POST',
      headers: { ...PAGE_HEADERS, authorization: `Bearer ${session?.secret ?? ''}` },
      body: JSON.stringify(command),
      credentials: 'omit',
    });
    if (response.headers.get('x-killswitch-console-run') !== session?.run) {
      signedOut('Something else answers on this port now: the console that opened this page has stopped.');
      return { ok: false, error: { kind: 'FAILURE', message: 'not the console this page signed in to' } };
    }
    if (response.status === 401) signedOut('This page has no console session (the console was restarted?).');
    return (await response.json()) as Envelope<T>;
  } catch (error) {
    // Loopback does not fail in passing: the console is gone (Ctrl-C). Stop, and say so.
    signedOut('The console has stopped. Start `killswitch console` again for a new link.');
    return { ok: false, error: { kind: 'FAILURE', message: `the console did not answer: ${(error as Error).message}` } };
  }
}

/** The one-time link's token (in the fragment, so never sent in a request line), traded for the session once. */
async function signIn(): Promise<Session | undefined> {
  const token = /^#token=([\w-]+)$/.exec(location.hash)?.[1];
  if (token) {
    // Out of the address bar and the history at once.
    history.replaceState(null, '', `${location.pathname}#/`);
    const response = await fetch('/api/session', {
      method: 'POST',
      headers: PAGE_HEADERS,
      body: JSON.stringify({ token }),
      credentials: 'omit',
    });
    const body = (await response.json()) as Session | Failure;
    if (!response.ok || 'ok' in body) {
      signedOut((body as Failure).error?.message ?? `the console answered ${response.status}`);
      return undefined;
    }
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(body));
    return body;
  }
  const kept = sessionStorage.getItem(SESSION_KEY);
  if (kept) return JSON.parse(kept) as Session;
  signedOut('Open the link that killswitch console printed in your terminal.');
  return undefined;
}

let stopped = false;
function signedOut(why: string): void {
  stopped = true;
  sessionStorage.removeItem(SESSION_KEY);
  document.getElementById('who')!.textContent = 'Not signed in';
  main().replaceChildren(
    h('h1', {}, 'Not signed in'),
    h('p', {}, why),
    h('p', {}, 'Each link the console prints opens one session, once.'),
  );
}

// ---------------------------------------------------------------------------------------------
// Dialogs: the forms live outside the refreshed content, so a refresh never takes what is typed.

function dialog(title: string, body: (close: () => void, slot: HTMLElement) => HTMLFormElement): void {
  const slot = h('div', { class: 'dialog-result' });
  const d = h('dialog', { 'aria-labelledby': 'dialog-title', class: 'dialog' });
  const opener = document.activeElement as HTMLElement | null;
  // Cancel, a finished form and Escape all end in the dialog's close event, which removes it.
  const close = () => d.close();
  d.addEventListener('close', () => {
    d.remove();
    opener?.focus();
  });
  append(d, [h('h2', { id: 'dialog-title' }, title), body(close, slot), slot]);
  document.body.appendChild(d);
  d.showModal();
}

/** A form with a reason (required or not) and a submit button that sends `command(reason)`. */
function reasonForm(options: {
  intro: Child[];
  submit: string;
  reasonRequired: boolean;
  extra?: HTMLElement[];
  command: (reason: string | undefined, form: HTMLFormElement) => Record<string, unknown>;
  done: (result: unknown) => string;
}): (close: () => void, slot: HTMLElement) => HTMLFormElement {
  return (close, slot) => {
    const reason = h('textarea', {
      id: 'reason',
      name: 'reason',
      rows: 3,
      maxlength: 500,
      required: options.reasonRequired,
      'aria-describedby': 'reason-help',
    });
    const submit = h('button', { type: 'submit', class: 'primary' }, options.submit);
    const form = h(
      'form',
      {
        onsubmit: async (event: Event) => {
          event.preventDefault();
          submit.disabled = true;
          slot.replaceChildren(h('p', { role: 'status' }, 'Sending…'));
          const text = reason.value.trim();
          const answer = await call<unknown>(options.command(text === '' ? undefined : text, form));
          submit.disabled = false;
          if (!answer.ok) {
            slot.replaceChildren(failureBox(answer.error));
            return;
          }
          const message = options.done(answer.result);
          announce(message);
          flash(message);
          close();
          void refresh();
        },
      },
      ...options.intro.map((c) => (typeof c === 'string' ? h('p', {}, c) : c)),
      ...(options.extra ?? []),
      h('label', { for: 'reason' }, options.reasonRequired ? 'Reason (required)' : 'Reason (optional)'),
      reason,
      h('p', { id: 'reason-help', class: 'help' }, 'Kept in the incident record. At most 500 characters.'),
      h('div', { class: 'buttons' }, submit, h('button', { type: 'button', onclick: close }, 'Cancel')),
    );
    return form;
  };
}

/** A message that stays on the page until the next navigation (the announcer says it aloud). */
function flash(message: string): void {
  const el = document.getElementById('flash');
  if (el) el.replaceChildren(h('p', { class: 'ok' }, message));
}

const idempotencyKey = () => `console-${crypto.randomUUID()}`;

function pauseDialog(programId: string, scopes: string[]): void {
  // A scope the program declares (<dimension>#<value>) or "*"; those already known are offered.
  const select = h('input', {
    id: 'scope',
    name: 'scope',
    value: '*',
    list: 'scopes',
    required: true,
    'aria-describedby': 'scope-help',
    autocomplete: 'off',
  });
  const known = h('datalist', { id: 'scopes' }, ...['*', ...scopes.filter((x) => x !== '*')].map((scope) => h('option', { value: scope })));
  dialog(
    `Pause ${programId}`,
    reasonForm({
      intro: ['Collection stops at once. One person is enough; resuming will need two.'],
      extra: [
        h('label', { for: 'scope' }, 'Scope'),
        select,
        known,
        h('p', { id: 'scope-help', class: 'help' }, '* for the whole program, or one scope it declares, such as region#eu-west-1.'),
      ],
      submit: 'Pause now',
      reasonRequired: true,
      command: (reason) => ({ action: 'pause', programId, scope: select.value.trim(), reason, idempotencyKey: idempotencyKey() }),
      done: (r) => {
        const p = r as { outcome: string; state: { scope: string; version: number }; incidentId: string };
        return `${p.outcome}: ${programId}/${p.state.scope} is paused at version ${p.state.version} (incident ${p.incidentId}).`;
      },
    }),
  );
}

function requestResumeDialog(programId: string, scope: string, incidentId: string): void {
  dialog(
    `Ask to resume ${programId} / ${scope}`,
    reasonForm({
      intro: [`This closes incident ${incidentId}. A second, different person must approve before collection starts again.`],
      submit: 'Ask for the resume',
      reasonRequired: true,
      command: (reason) => ({ action: 'request-resume', programId, scope, incidentId, reason, idempotencyKey: idempotencyKey() }),
      done: (r) => `Resume requested (${(r as { request: { requestId: string } }).request.requestId}); it waits for a second person.`,
    }),
  );
}

function approveDialog(request: RequestSummary): void {
  const what =
    request.kind === 'RESUME' ? `the resume of ${request.programId} / ${request.scope}` : `the grant restore of ${request.incidentId}`;
  dialog(
    request.kind === 'RESUME' ? 'Approve the resume' : 'Approve the grant restore',
    reasonForm({
      intro: [
        h('p', {}, `${personOf(request.requestedBy)} asked for ${what} ${ago(request.requestedAt)}: `, untrusted(request.reason)),
        'You must be a different person from the one who asked; the operator API checks it.',
      ],
      submit: 'Approve',
      reasonRequired: false,
      command: (reason) =>
        request.kind === 'RESUME'
          ? { action: 'approve-resume', programId: request.programId, requestId: request.requestId, ...(reason ? { reason } : {}) }
          : { action: 'approve-restore-grants', requestId: request.requestId, ...(reason ? { reason } : {}) },
      done: () => `Approved ${what}.`,
    }),
  );
}

function restoreDialog(incidentId: string): void {
  dialog(
    `Ask to restore the grants of ${incidentId}`,
    reasonForm({
      intro: ['Every grant this incident revoked is given back exactly as it was, once a second, different person approves.'],
      submit: 'Ask for the restore',
      reasonRequired: true,
      command: (reason) => ({ action: 'restore-grants', incidentId, reason, idempotencyKey: idempotencyKey() }),
      done: (r) => `Restore requested (${(r as { request: { requestId: string } }).request.requestId}); it waits for a second person.`,
    }),
  );
}

function notifyDialog(incidentId: string): void {
  dialog(`Notify the employees of ${incidentId}`, (close, slot) => {
    const submit = h('button', { type: 'submit', class: 'primary' }, 'Send the notices');
    return h(
      'form',
      {
        onsubmit: async (event: Event) => {
          event.preventDefault();
          submit.disabled = true;
          const answer = await call<{ notices: { planned: number } }>({ action: 'notify', incidentId });
          submit.disabled = false;
          if (!answer.ok) return slot.replaceChildren(failureBox(answer.error));
          const message = `Notices queued for incident ${incidentId}.`;
          announce(message);
          flash(message);
          close();
          void refresh();
        },
      },
      h('p', {}, 'Every employee whose data the incident exposed is told once, whatever is sent again.'),
      h('div', { class: 'buttons' }, submit, h('button', { type: 'button', onclick: close }, 'Cancel')),
    );
  });
}

// ---------------------------------------------------------------------------------------------
// Pages.

function table(caption: string, head: string[], rows: Child[][]): HTMLElement {
  return h(
    'table',
    {},
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, ...head.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, ...rows.map((r) => h('tr', {}, ...r.map((c, i) => (i === 0 ? h('th', { scope: 'row' }, c) : h('td', {}, c)))))),
  );
}

function progress(label: string, value: number, max: number, detail: string, key: string): HTMLElement {
  const id = `progress-${key}`;
  return h(
    'div',
    { class: 'progress' },
    h('label', { for: id }, label),
    h('progress', { id, value: Math.min(value, max), max: Math.max(max, 1), 'aria-valuetext': detail }),
    h('span', { class: 'detail' }, detail),
  );
}

function requestsTable(requests: RequestSummary[], caption: string): HTMLElement {
  return table(
    caption,
    ['Request', 'What', 'Asked by', 'When', 'Reason', 'Actions'],
    requests.map((r) => [
      h('code', {}, r.requestId.slice(0, 8)),
      r.kind === 'RESUME' ? `Resume ${r.scope ?? ''}` : `Restore grants of ${r.incidentId}`,
      h('span', { title: r.requestedBy }, personOf(r.requestedBy)),
      ago(r.requestedAt),
      untrusted(r.reason),
      r.status === 'PENDING'
        ? h(
            'button',
            {
              type: 'button',
              'data-key': `approve-${r.requestId}`,
              onclick: () => approveDialog(r),
              'aria-label': `Approve the ${r.kind === 'RESUME' ? `resume of ${r.programId} ${r.scope}` : `grant restore of ${r.incidentId}`} asked by ${personOf(r.requestedBy)}`,
            },
            'Approve…',
          )
        : r.status,
    ]),
  );
}

async function board(): Promise<Child[]> {
  const answer = await call<StatusView>({ action: 'status' });
  if (!answer.ok) return [h('h1', {}, 'Programs'), failureBox(answer.error)];
  const programs = answer.result.programs;
  return [
    h('h1', {}, 'Programs'),
    programs.length ? null : h('p', {}, 'No program is registered.'),
    ...programs.map((p) => {
      const paused = p.scopes.filter((x) => x.status === 'PAUSED');
      const acks = p.acknowledgements;
      return h(
        'section',
        { class: `program program-${p.status.toLowerCase()}`, 'aria-labelledby': `program-${p.programId}` },
        h(
          'div',
          { class: 'program-head' },
          h('h2', { id: `program-${p.programId}` }, p.programId, ' ', statusBadge(p.status)),
          h(
            'button',
            {
              type: 'button',
              class: 'danger',
              'data-key': `pause-${p.programId}`,
              onclick: () =>
                pauseDialog(
                  p.programId,
                  p.scopes.map((x) => x.scope),
                ),
            },
            `Pause ${p.programId}…`,
          ),
        ),
        paused.length
          ? h('p', { class: 'summary' }, `${paused.length} of ${p.scopes.length} scopes paused: collection there is stopped.`)
          : h('p', { class: 'summary' }, 'Collecting.'),
        table(
          `Scopes of ${p.programId}`,
          ['Scope', 'Status', 'Version', 'Changed', 'By', 'Why', 'Incident', 'Actions'],
          p.scopes.map((x) => [
            x.scope,
            statusBadge(x.status),
            x.version,
            time(x.changedAt),
            h('span', { title: x.by ?? '' }, x.person ?? personOf(x.by)),
            untrusted(x.why),
            x.incidentId
              ? h(
                  'a',
                  { href: `#/incidents/${encodeURIComponent(x.incidentId)}`, 'data-key': `inc-${p.programId}-${x.scope}` },
                  x.incidentId,
                )
              : '—',
            x.status === 'PAUSED' && x.incidentId
              ? h(
                  'button',
                  {
                    type: 'button',
                    'data-key': `resume-${p.programId}-${x.scope}`,
                    onclick: () => requestResumeDialog(p.programId, x.scope, x.incidentId!),
                    'aria-label': `Ask to resume ${p.programId} ${x.scope}`,
                  },
                  'Ask to resume…',
                )
              : '',
          ]),
        ),
        acks && acks.known === 0
          ? h('p', { class: 'detail' }, `No endpoint agent has reported in the last 24 hours (state ${acks.seq}).`)
          : acks
            ? progress(
                'Agents halted',
                acks.halted,
                acks.known,
                `${acks.halted} halted, ${acks.collecting} collecting, ${acks.silent} silent of ${acks.known} known (state ${acks.seq})`,
                `agents-${p.programId}`,
              )
            : null,
        p.pending?.length ? requestsTable(p.pending, `Waiting for a second person (${p.programId})`) : null,
      );
    }),
  ];
}

async function incidents(params: URLSearchParams): Promise<Child[]> {
  const status = params.get('status') ?? '';
  const severity = params.get('severity') ?? '';
  const answer = await call<IncidentListView>({
    action: 'list-incidents',
    limit: 50,
    ...(status ? { status } : {}),
    ...(severity ? { severity } : {}),
  });
  const choose = (id: string, label: string, value: string, options: string[]) =>
    h(
      'span',
      { class: 'filter' },
      h('label', { for: id }, label),
      h('select', { id, name: id }, ...['', ...options].map((o) => h('option', { value: o, selected: o === value }, o || 'any'))),
    );
  const filters = h(
    'form',
    {
      class: 'filters',
      'aria-label': 'Filter incidents',
      onsubmit: (event: Event) => {
        event.preventDefault();
        const data = new FormData(event.target as HTMLFormElement);
        const q = new URLSearchParams();
        for (const k of ['status', 'severity']) if (data.get(k)) q.set(k, String(data.get(k)));
        location.hash = `#/incidents${q.size ? `?${q}` : ''}`;
      },
    },
    choose('status', 'Status', status, ['OPEN', 'RESOLVED']),
    choose('severity', 'At least', severity, ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL']),
    h('button', { type: 'submit' }, 'Filter'),
  );
  if (!answer.ok) return [h('h1', {}, 'Incidents'), filters, failureBox(answer.error)];
  return [
    h('h1', {}, 'Incidents'),
    filters,
    answer.result.incidents.length
      ? table(
          'Incidents, most recent first',
          ['Incident', 'Program', 'Scope', 'Severity', 'Status', 'Action', 'Opened'],
          answer.result.incidents.map((i) => [
            h('a', { href: `#/incidents/${encodeURIComponent(i.incidentId)}`, 'data-key': `list-${i.incidentId}` }, i.incidentId),
            i.programId,
            i.scope,
            i.severity,
            statusBadge(i.status),
            i.action,
            time(i.openedAt),
          ]),
        )
      : h('p', {}, 'No incident matches.'),
  ];
}

/** One time axis; a lane per kind of step; a mark per timeline entry (its text in a tooltip and in the table below). */
export function timelinePicture(timeline: TimelineEntry[]): SVGElement {
  const layout = layoutTimeline(timeline);
  const said = layout.firsts.map((f) => `${f.lane.toLowerCase()} ${f.offset} (${f.type})`);
  const svg = s(
    'svg',
    { viewBox: `0 0 ${layout.width} ${layout.height}`, role: 'img', 'aria-labelledby': 'timeline-title timeline-desc', class: 'timeline' },
    s('title', { id: 'timeline-title' }, 'Timeline of the incident'),
    s(
      'desc',
      { id: 'timeline-desc' },
      layout.start
        ? `${timeline.length} steps from ${time(layout.start)}, first of each after the first step: ${said.join('; ') || 'none'}. Every step is listed in the table below.`
        : 'No steps recorded.',
    ),
  );
  for (const lane of layout.lanes) {
    svg.appendChild(s('text', { x: 8, y: lane.y + 5, class: 'lane-label' }, lane.name));
    svg.appendChild(s('line', { x1: layout.left, x2: layout.right, y1: lane.y, y2: lane.y, class: 'lane-line' }));
  }
  for (const m of layout.marks)
    svg.appendChild(
      s(
        'circle',
        { cx: m.x, cy: m.y, r: 6, class: `mark mark-${m.lane.toLowerCase().replace(/ /g, '-')}`, 'data-type': m.step.type },
        s('title', {}, `${m.offset} ${m.step.type}: ${terminalSafe(m.step.message)}`),
      ),
    );
  svg.appendChild(s('line', { x1: layout.left, x2: layout.right, y1: layout.axisY, y2: layout.axisY, class: 'axis' }));
  for (const t of layout.ticks) {
    svg.appendChild(s('line', { x1: t.x, x2: t.x, y1: layout.axisY, y2: layout.axisY + 6, class: 'axis' }));
    svg.appendChild(s('text', { x: t.x, y: layout.axisY + 22, class: 'tick', 'text-anchor': t.anchor }, t.start ? time(t.start) : t.label));
  }
  return svg;
}

/** The timeline, with the incident's own opening and resolution as steps (an operator's pause has no detection entry). */
function stepsOf(r: IncidentView): TimelineEntry[] {
  const i = r.incident;
  const steps = [...r.timeline];
  if (!steps.some((t) => t.type === 'INCIDENT_OPENED'))
    steps.push({ incidentId: i.incidentId, at: i.openedAt, type: 'INCIDENT_OPENED', actor: i.openedBy, message: `opened (${i.severity})` });
  if (i.resolvedAt && !steps.some((t) => t.type === 'INCIDENT_RESOLVED'))
    steps.push({
      incidentId: i.incidentId,
      at: i.resolvedAt,
      type: 'INCIDENT_RESOLVED',
      actor: i.resolvedBy ?? '',
      message: 'resolved by an approved resume',
    });
  return steps.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}

async function incident(incidentId: string): Promise<Child[]> {
  const answer = await call<IncidentView>({ action: 'incident', incidentId });
  if (!answer.ok) return [h('h1', {}, `Incident ${incidentId}`), failureBox(answer.error)];
  const r = answer.result;
  const i = r.incident;
  const status = await call<StatusView>({ action: 'status', programId: i.programId });
  const scope = status.ok ? status.result.programs[0]?.scopes.find((x) => x.scope === i.scope) : undefined;
  const pending = status.ok ? (status.result.programs[0]?.pending ?? []).filter((p) => p.incidentId === i.incidentId) : [];
  const n = r.notices;
  const g = r.grants;
  const facts: [string, Child][] = [
    ['Program', `${i.programId} (scope ${i.scope})`],
    ['Status', statusBadge(i.status)],
    ['Severity', i.severity],
    ['Action', i.action],
    ['Opened', h('span', {}, `${time(i.openedAt)} by `, untrusted(personOf(i.openedBy)))],
    ['Datasets', i.datasetIds.join(', ') || '—'],
    ['Resolved', i.resolvedAt ? `${time(i.resolvedAt)} by ${personOf(i.resolvedBy)}` : '—'],
    ['Scope now', scope ? h('span', {}, statusBadge(scope.status), ` at version ${scope.version}`) : '—'],
    [
      'Authority (Art. 33)',
      !r.breach
        ? '—'
        : r.breach.status === 'UNDECIDED'
          ? `no decision — due ${time(r.breach.dueAt)} (${remainingText(r.breach.remainingMs ?? 0)})`
          : r.breach.status === 'NOTIFIED'
            ? `notified ${time(r.breach.notifiedAt)}${r.breach.late ? ' (after the 72 hours)' : ''}`
            : 'documented as not notifiable',
    ],
  ];
  return [
    h('p', {}, h('a', { href: '#/incidents' }, '← All incidents')),
    h('h1', {}, `Incident ${i.incidentId}`),
    h('dl', { class: 'facts' }, ...facts.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
    h(
      'div',
      { class: 'buttons' },
      scope?.status === 'PAUSED' && scope.incidentId === i.incidentId
        ? h(
            'button',
            { type: 'button', 'data-key': 'ask-resume', onclick: () => requestResumeDialog(i.programId, i.scope, i.incidentId) },
            'Ask to resume…',
          )
        : null,
      g && g.revoked > g.restored
        ? h(
            'button',
            { type: 'button', 'data-key': 'ask-restore', onclick: () => restoreDialog(i.incidentId) },
            'Ask to restore the grants…',
          )
        : null,
      i.action !== 'RECORDED'
        ? h('button', { type: 'button', 'data-key': 'notify', onclick: () => notifyDialog(i.incidentId) }, 'Notify employees…')
        : null,
    ),
    h(
      'section',
      { 'aria-labelledby': 'progress-title' },
      h('h2', { id: 'progress-title' }, 'Progress'),
      n && n.planned > 0
        ? progress(
            'Notices sent',
            n.sent,
            n.planned,
            `${n.sent} of ${n.planned} sent${n.pending + n.sending ? `, ${n.pending + n.sending} on their way` : ''}${n.failed ? `, ${n.failed} failed` : ''}`,
            'notices',
          )
        : h('p', {}, 'No notices planned yet.'),
      g
        ? progress(
            'Grants revoked',
            g.revoked - g.restored,
            g.revoked + g.alsoHeld,
            `${g.revoked} revoked by this incident${g.alsoHeld ? `, ${g.alsoHeld} already revoked by another` : ''}${g.restored ? `; ${g.restored} restored since` : ''}`,
            'grants',
          )
        : null,
      r.acknowledgements && r.acknowledgements.known === 0
        ? h('p', { class: 'detail' }, 'No endpoint agent has reported in the last 24 hours.')
        : r.acknowledgements
          ? progress(
              'Agents halted',
              r.acknowledgements.halted,
              r.acknowledgements.known,
              `${r.acknowledgements.halted} halted, ${r.acknowledgements.collecting} collecting, ${r.acknowledgements.silent} silent of ${r.acknowledgements.known} known`,
              'agents',
            )
          : null,
    ),
    pending.length ? requestsTable(pending, 'Waiting for a second person') : null,
    h('section', { 'aria-labelledby': 'timeline-heading' }, h('h2', { id: 'timeline-heading' }, 'Timeline'), timelinePicture(stepsOf(r))),
    table(
      'Every step, in order',
      ['When', 'Step', 'By', 'What'],
      stepsOf(r).map((t) => [instant(t.at), t.type, h('span', { title: t.actor }, personOf(t.actor)), untrusted(t.message)]),
    ),
    table(
      'Audit trail of the flag',
      ['Version', 'Status', 'When', 'Person', 'Verified', 'Reason'],
      r.audit.map((a) => [
        a.version,
        statusBadge(a.status),
        time(a.at),
        untrusted(a.person ?? personOf(a.by)),
        a.verified ? 'yes' : 'no',
        untrusted(a.reason),
      ]),
    ),
  ];
}

// ---------------------------------------------------------------------------------------------
// Routing and refresh.

let rendering = false;
async function refresh(): Promise<void> {
  if (rendering || stopped) return;
  rendering = true;
  try {
    const [path, query] = location.hash.replace(/^#/, '').split('?');
    const params = new URLSearchParams(query ?? '');
    const route = path || '/';
    const incidentMatch = /^\/incidents\/(.+)$/.exec(route);
    const nodes = incidentMatch
      ? await incident(decodeURIComponent(incidentMatch[1]!))
      : route === '/incidents'
        ? await incidents(params)
        : await board();
    if (stopped) return;
    // Keep the keyboard where it was across a refresh.
    const focused = (document.activeElement as HTMLElement | null)?.dataset?.key;
    const flashed = document.getElementById('flash');
    main().replaceChildren(flashed ?? h('div', { id: 'flash', 'aria-live': 'off' }));
    append(main(), nodes);
    if (focused) (main().querySelector(`[data-key="${CSS.escape(focused)}"]`) as HTMLElement | null)?.focus();
    document.getElementById('refreshed')!.textContent = `Updated ${new Date().toLocaleTimeString(undefined, { hour12: false })}`;
    document.title = `${document.querySelector('main h1')?.textContent ?? 'killswitch'} · killswitch console`;
  } finally {
    rendering = false;
  }
}

async function start(): Promise<void> {
  session = await signIn();
  if (!session) return;
  const { identity, target } = session;
  const refreshSeconds = Math.max(1, Number(session.refreshSeconds) || 2);
  document.getElementById('who')!.replaceChildren('Acting as ', h('strong', { title: identity }, personOf(identity)), ` · ${target}`);
  window.addEventListener('hashchange', () => {
    if (stopped) return;
    document.getElementById('flash')?.replaceChildren();
    void refresh().then(() => main().focus());
  });
  await refresh();
  // The board and the incident page follow the ledger; the list refreshes when asked.
  const timer = setInterval(() => {
    if (stopped) return clearInterval(timer);
    if (!location.hash.startsWith('#/incidents') || location.hash.startsWith('#/incidents/')) void refresh();
  }, refreshSeconds * 1000);
}

void start();
