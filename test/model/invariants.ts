import { personOf, type Model } from './model.ts';
import type { ObservedIncident, ObservedTimelineEntry, SystemUnderTest } from './system.ts';

/** An invariant the real tables broke: the message says which promise, where and how. */
export class InvariantViolation extends Error {
  constructor(
    readonly invariant: InvariantName,
    message: string,
  ) {
    super(`[${invariant}] ${message}`);
    this.name = 'InvariantViolation';
  }
}

export const INVARIANTS = {
  pausedStaysPaused: 'a pause that answered success, or a pausing anomaly that arrived, leaves its scope PAUSED until a two-person resume',
  everyVersionRecorded: 'every state version has exactly one audit entry and one incident (or approved resume) that records it',
  twoPersonResume: 'a resume is applied only by a second person, at the version its request saw, with no incident newer than the request',
  automationNeverResumes: "automation never resumes: every resume is a verified person's approval",
  grantsRestoredOnlyByApproval:
    'a grant is ACTIVE again only after an approved restore of every incident that revoked it, requested while the incident concerned its dataset; revocations only for incidents that paused, on their datasets',
  approvedRestoreCompletes: 'an approved restore releases every grant its incident revoked on the datasets it was requested for',
  noticesExactlyOnce:
    'each affected employee ends with exactly one SENT notice per notified incident, none SENDING; no notice for an incident nobody notified',
  nothingLost: 'every anomaly either took effect or is in a DLQ with its reason; every operator command answers ok or a named refusal',
  configuredScopesOnly: 'only scopes the program declares are ever paused',
  collectorsReadNoPersonalData: 'the state item collectors read holds no operator identity and no free text',
  immediate: 'an operator command answers what the rules say (refusals named, success only when done)',
} as const;
export type InvariantName = keyof typeof INVARIANTS;

/** Which invariants to enforce: all of them, or (discovery) one at a time. */
export type Enforced = (name: InvariantName) => boolean;

export function expectThat(enforced: Enforced, name: InvariantName, ok: boolean, message: () => string): void {
  if (!ok && enforced(name)) throw new InvariantViolation(name, message());
}

/** Every invariant, checked against the real tables after a step has settled. */
export async function checkInvariants(sys: SystemUnderTest, model: Model, enforced: Enforced): Promise<void> {
  const { programId, datasetIds } = model.fixture;
  const obs = sys.observe;
  const states = await obs.states(programId);
  const incidents = await obs.incidents(programId);
  model.view = { states, incidents };
  const timelines = new Map<string, ObservedTimelineEntry[]>();
  const timeline = async (id: string) => {
    let t = timelines.get(id);
    if (!t) timelines.set(id, (t = await obs.timeline(id)));
    return t;
  };
  const held = sys.queues.some((q) => q.messages.some((m) => m.held));

  // A scope that must be paused is paused.
  for (const o of model.obligations) {
    const s = states.find((x) => x.scope === o.scope);
    expectThat(
      enforced,
      'pausedStaysPaused',
      s?.status === 'PAUSED',
      () => `${o.scope} is ${s ? `${s.status} at version ${s.version}` : 'missing'} after step ${o.step}: ${o.what}`,
    );
  }

  for (const s of states) {
    expectThat(
      enforced,
      'configuredScopesOnly',
      model.scopes.includes(s.scope),
      () => `scope ${s.scope} was written but the program declares only ${model.scopes.join(', ')}`,
    );
    const raw = JSON.stringify(s.raw);
    const leaked = [...model.secrets].filter((x) => raw.includes(x));
    expectThat(
      enforced,
      'collectorsReadNoPersonalData',
      !leaked.length && !raw.includes(':assumed-role/'),
      () =>
        `the ${s.scope} item collectors read contains ${leaked.length ? `operator text ${JSON.stringify(leaked)}` : 'an operator ARN'}: ${raw}`,
    );

    const audit = await obs.audit(programId, s.scope);
    const first = s.scope === '*' ? 2 : 1;
    for (let v = first; v <= s.version; v++) {
      const entries = audit.filter((a) => a.version === v);
      // A resume written by an approval whose call died owes its record until the client retries.
      if (!entries.length && [...model.inFlight.values()].some((f) => f.scope === s.scope && f.version === v)) continue;
      expectThat(
        enforced,
        'everyVersionRecorded',
        entries.length === 1,
        () => `${s.scope} version ${v} has ${entries.length} audit entries (state at version ${s.version} ${s.status})`,
      );
      const entry = entries[0];
      if (!entry) continue;
      if (entry.status === 'PAUSED') {
        const recorders: string[] = [];
        for (const i of incidents) {
          if (
            (await timeline(i.incidentId)).some(
              (t) => t.type === 'STATE_CHANGED' && t.data?.version === v && t.data?.scope === s.scope && t.data?.status === 'PAUSED',
            )
          )
            recorders.push(i.incidentId);
        }
        expectThat(
          enforced,
          'everyVersionRecorded',
          recorders.length === 1,
          () =>
            `${s.scope} version ${v} (PAUSED by ${entry.trigger}) is recorded by ${recorders.length} incidents ${JSON.stringify(recorders)}`,
        );
        // ... and that incident says it paused: what consumers act on (revocation, notices) is what happened.
        const recorder = incidents.find((i) => i.incidentId === recorders[0]);
        expectThat(
          enforced,
          'everyVersionRecorded',
          !recorder || recorder.action !== 'RECORDED',
          () => `${s.scope} version ${v} is PAUSED, but ${recorder!.incidentId}, which records it, says it only recorded an anomaly`,
        );
      } else {
        const request = entry.requestId ? await obs.request(entry.requestId) : undefined;
        expectThat(
          enforced,
          'everyVersionRecorded',
          request?.status === 'APPROVED' && request.stateVersion === v,
          () => `${s.scope} version ${v} (ACTIVE) has no approved resume request recording it (${JSON.stringify(request)})`,
        );
        expectThat(
          enforced,
          'automationNeverResumes',
          entry.trigger === 'RESUME' && request?.kind === 'RESUME',
          () => `${s.scope} version ${v} went ACTIVE by ${entry.trigger} (${entry.by})`,
        );
        if (request) {
          const [by, approver] = [personOf(request.requestedBy), personOf(request.approvedBy)];
          expectThat(
            enforced,
            'twoPersonResume',
            !!by && !!approver && by !== approver,
            () =>
              `${s.scope} version ${v} resumed by request ${request.requestId}: requested by ${request.requestedBy} (${by}), approved by ${request.approvedBy} (${approver})`,
          );
          expectThat(
            enforced,
            'twoPersonResume',
            request.expectedVersion === v - 1,
            () => `${s.scope} version ${v} resumed by a request that saw version ${request.expectedVersion}`,
          );
        }
      }
    }
    const beyond = audit.filter((a) => a.version > s.version);
    expectThat(
      enforced,
      'everyVersionRecorded',
      !beyond.length,
      () => `${s.scope} has audit entries for versions ${beyond.map((a) => a.version)} beyond the state's ${s.version}`,
    );
  }

  // Grants: revoked only for incidents that paused, on their datasets; ACTIVE again only through approved restores.
  const byId = new Map(incidents.map((i) => [i.incidentId, i]));
  const approvedRestores = new Map<string, { approvedAt: number; datasets: string[] }[]>();
  for (const r of model.requests.filter((x) => x.kind === 'RESTORE_GRANTS' && x.approvedAt !== undefined)) {
    const real = await obs.request(r.requestId);
    if (
      real?.status === 'APPROVED' &&
      personOf(real.requestedBy) &&
      personOf(real.approvedBy) &&
      personOf(real.requestedBy) !== personOf(real.approvedBy)
    ) {
      approvedRestores.set(r.incidentId, [
        ...(approvedRestores.get(r.incidentId) ?? []),
        { approvedAt: r.approvedAt!, datasets: r.datasets ?? [] },
      ]);
    }
  }
  const revokedBy = new Map<string, Set<string>>();
  for (const i of incidents) {
    for (const snap of await obs.snapshots(i.incidentId)) {
      const key = `${snap.datasetId}|${snap.principal}`;
      revokedBy.set(key, new Set([...(revokedBy.get(key) ?? []), i.incidentId]));
    }
  }
  for (const datasetId of datasetIds) {
    for (const g of await obs.grants(datasetId)) {
      if (g.owner) {
        expectThat(
          enforced,
          'grantsRestoredOnlyByApproval',
          g.status === 'ACTIVE',
          () => `owner grant ${g.principal} on ${datasetId} is ${g.status}`,
        );
        continue;
      }
      for (const holder of g.revokedByIncidents) {
        const i = byId.get(holder);
        expectThat(
          enforced,
          'grantsRestoredOnlyByApproval',
          !!i && i.action !== 'RECORDED' && i.datasetIds.includes(datasetId),
          () =>
            `grant ${g.principal} on ${datasetId} is held revoked by ${holder}, ${i ? `an incident that ${i.action === 'RECORDED' ? 'paused nothing' : `concerns only ${i.datasetIds.join(', ')}`}` : 'which is no incident of the program'}`,
        );
      }
      if (g.status === 'ACTIVE') {
        for (const i of revokedBy.get(`${datasetId}|${g.principal}`) ?? []) {
          const covering = (approvedRestores.get(i) ?? []).filter((a) => a.datasets.includes(datasetId));
          expectThat(enforced, 'grantsRestoredOnlyByApproval', covering.length > 0, () =>
            approvedRestores.has(i)
              ? `grant ${g.principal} on ${datasetId} is ACTIVE again although ${i} revoked it and the restores approved for ${i} were asked for ${approvedRestores
                  .get(i)!
                  .map((a) => a.datasets.join('+'))
                  .join(' / ')} only`
              : `grant ${g.principal} on ${datasetId} is ACTIVE again although ${i} revoked it and no restore of ${i} was approved by two people`,
          );
        }
      }
      if (!held) {
        for (const holder of g.revokedByIncidents) {
          const approvals = approvedRestores.get(holder)?.filter((a) => a.datasets.includes(datasetId));
          if (!approvals?.length) continue;
          const approvedAt = Math.min(...approvals.map((a) => a.approvedAt));
          if (await reRevokedAfter(timeline, byId.get(holder), approvedAt)) continue;
          expectThat(
            enforced,
            'approvedRestoreCompletes',
            false,
            () => `grant ${g.principal} on ${datasetId} is still revoked by ${holder}, whose restore was approved`,
          );
        }
      }
    }
  }

  // Notices: one SENT per affected employee of each notified incident; none for an incident nobody notified.
  for (const incidentId of model.notified) {
    const i = byId.get(incidentId);
    if (!i) continue;
    const affected = model.fixture.subjects.filter((s) => i.datasetIds.includes(s.datasetId)).map((s) => s.employeeId);
    for (const employeeId of new Set(affected)) {
      const n = await obs.notice(incidentId, employeeId);
      expectThat(
        enforced,
        'noticesExactlyOnce',
        n?.status === 'SENT',
        () => `${employeeId}'s notice for ${incidentId} is ${n?.status ?? 'missing'} after deliveries settled`,
      );
      expectThat(
        enforced,
        'noticesExactlyOnce',
        sys.observe.delivered().some((d) => d.incidentId === incidentId && d.employeeId === employeeId),
        () => `${employeeId} never received the notice for ${incidentId}`,
      );
    }
  }
  for (const d of sys.observe.delivered()) {
    expectThat(
      enforced,
      'noticesExactlyOnce',
      model.notified.has(d.incidentId),
      () => `${d.employeeId} received a notice for ${d.incidentId}, which no operator notified`,
    );
  }

  // Nothing lost.
  const dead = sys.queues.flatMap((q) => q.dlq);
  for (const a of model.anomaliesPut) {
    const handled = await obs.anomalyHandled(programId, a.anomalyId);
    const kept = dead.some((d) => JSON.stringify(d.body).includes(a.anomalyId) && d.reason.length > 0);
    expectThat(
      enforced,
      'nothingLost',
      handled || kept,
      () => `anomaly ${a.anomalyId} (step ${a.step}) neither took effect nor is in a DLQ`,
    );
  }
}

/** The incident paused or revoked again after the restore was approved (an escalation): its new holds are not the restore's. */
async function reRevokedAfter(
  timeline: (id: string) => Promise<ObservedTimelineEntry[]>,
  incident: ObservedIncident | undefined,
  approvedAt: number,
): Promise<boolean> {
  if (!incident) return false;
  const AFTER_RESTORE_OK = /^(RESTORE|GRANTS_RESTORED|NOTIFY|RESEND|NOTICES|RESUME|GRANTS_REVOKED|INCIDENT_RESOLVED)/;
  return (await timeline(incident.incidentId)).some(
    (t) => Date.parse(t.at) > approvedAt && !AFTER_RESTORE_OK.test(t.type) && !(t.type === 'STATE_CHANGED' && t.data?.status === 'ACTIVE'),
  );
}
