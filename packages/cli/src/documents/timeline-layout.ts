/*
 * The incident's timeline picture, as geometry only (no DOM, no SVG, no PDF): one time axis, a lane
 * per kind of step, a mark per timeline entry. The console draws it in the page, the report in
 * HTML (SVG) and PDF (pdfkit), from the same layout.
 */

export interface TimelineStep {
  at: string;
  type: string;
  message: string;
}

/** The lanes and which entries each shows (the first that matches). */
const LANES: { name: string; match: RegExp }[] = [
  { name: 'Authority', match: /^(AUTHORITY_|NOT_NOTIFIABLE|DEADLINE_)/ },
  { name: 'Approvals', match: /^(RESUME_|RESTORE_(REQUESTED|APPROVED|REFUSED)|INCIDENT_RESOLVED)/ },
  { name: 'Detection', match: /^(ANOMALY|FINDING|INCIDENT_OPENED|INCIDENT_FACTS|OPENED|REOPENED|ESCALATED|PAUSE_LINKED|REPORT)/ },
  { name: 'Kill switch', match: /^(STATE_CHANGED|PAUSED|RESUMED|KILL_SWITCH)/ },
  { name: 'Collectors', match: /^(HALT|ACK|AGENTS?_|COLLECTORS?_)/ },
  { name: 'Access', match: /^(GRANTS_|ACCESS_|RESTORE_|REVOK)/ },
  { name: 'Notices', match: /^(NOTICE|NOTIFY_|RESEND_)/ },
];
/** The lanes top to bottom: the order in which an incident unfolds. */
export const LANE_ORDER = ['Detection', 'Kill switch', 'Collectors', 'Access', 'Notices', 'Approvals', 'Authority', 'Other'];

export const laneOf = (type: string): string => LANES.find((l) => l.match.test(type))?.name ?? 'Other';

/** A time after the first step, for people: "+120 ms", "+4.2 s", "+3.5 min", "+2.0 h", "+3.1 d". */
export function offset(ms: number): string {
  const a = Math.abs(ms);
  if (a < 1000) return `+${Math.round(ms)} ms`;
  if (a < 90_000) return `+${(ms / 1000).toFixed(1)} s`;
  if (a < 5_400_000) return `+${(ms / 60_000).toFixed(1)} min`;
  if (a < 172_800_000) return `+${(ms / 3_600_000).toFixed(1)} h`;
  return `+${(ms / 86_400_000).toFixed(1)} d`;
}

export interface TimelineLayout<S extends TimelineStep> {
  width: number;
  height: number;
  left: number;
  right: number;
  axisY: number;
  lanes: { name: string; y: number }[];
  marks: { lane: string; x: number; y: number; step: S; offset: string }[];
  /** Five ticks on the axis: the first step's time (`start`), then offsets. */
  ticks: { x: number; label: string; anchor: 'start' | 'middle' | 'end'; start?: string }[];
  /** The first step's time, and the first step of each lane after it: what the picture says, in words. */
  start?: string;
  firsts: { lane: string; offset: string; type: string }[];
}

/** Lay out steps on one time axis (`width` and lane height in the picture's own units). */
export function layoutTimeline<S extends TimelineStep>(
  steps: readonly S[],
  size: { left?: number; right?: number; laneHeight?: number; top?: number } = {},
): TimelineLayout<S> {
  const entries = [...steps].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  const lanes = LANE_ORDER.filter((name) => entries.some((e) => laneOf(e.type) === name));
  const { left = 130, right = 960, laneHeight = 40, top = 20 } = size;
  const t0 = entries.length ? Date.parse(entries[0]!.at) : 0;
  const span = Math.max(1, entries.length ? Date.parse(entries.at(-1)!.at) - t0 : 1);
  const x = (at: string) => left + ((Date.parse(at) - t0) / span) * (right - left);
  const laneY = (i: number) => top + i * laneHeight + laneHeight / 2;
  const marks: TimelineLayout<S>['marks'] = [];
  lanes.forEach((lane, i) => {
    let lastX = -Infinity;
    let nudge = 0;
    for (const step of entries.filter((e) => laneOf(e.type) === lane)) {
      const cx = x(step.at);
      // Marks closer than 10 units are spread over three rows, so that none hides another.
      nudge = cx - lastX < 10 ? (nudge + 1) % 3 : 0;
      lastX = cx;
      marks.push({ lane, x: cx, y: laneY(i) + (nudge ? (nudge - 1) * 7 : 0), step, offset: offset(Date.parse(step.at) - t0) });
    }
  });
  const axisY = top + lanes.length * laneHeight + 8;
  const ticks = [0, 1, 2, 3, 4].map((k) => ({
    x: left + (k / 4) * (right - left),
    label: k === 0 ? (entries[0]?.at ?? '') : offset((k / 4) * span),
    anchor: (k === 0 ? 'start' : k === 4 ? 'end' : 'middle') as 'start' | 'middle' | 'end',
    ...(k === 0 && entries[0] ? { start: entries[0].at } : {}),
  }));
  const firsts = LANE_ORDER.filter((l) => l !== 'Detection' && l !== 'Other')
    .map((lane) => [lane, entries.find((e) => laneOf(e.type) === lane)] as const)
    .filter(([, e]) => e)
    .map(([lane, e]) => ({ lane, offset: offset(Date.parse(e!.at) - t0), type: e!.type }));
  return {
    width: right + 30,
    height: top + lanes.length * laneHeight + 40,
    left,
    right,
    axisY,
    lanes: lanes.map((name, i) => ({ name, y: laneY(i) })),
    marks,
    ticks,
    ...(entries[0] ? { start: entries[0].at } : {}),
    firsts,
  };
}
