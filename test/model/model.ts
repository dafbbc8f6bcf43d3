import type { ObservedIncident, ObservedState, ProgramFixture } from './system.ts';

/*
 * The reference model: what the product promises, kept as obligations rather than as a second
 * implementation. Each command adds what it obliges the system to (a scope that must now be
 * paused, an incident event a pending resume must not pass over, a notice that must be sent);
 * the invariants (invariants.ts) check the real tables against them after every step.
 */

export const ACCOUNT = '111111111111';
export const PERSONS = ['alice', 'bob', 'carol'] as const;
export type Person = (typeof PERSONS)[number];
/** The same person, spelled as a session name can be: the caller chooses it freely. */
export const SPELLINGS = [(n: string) => n, (n: string) => n[0]!.toUpperCase() + n.slice(1), (n: string) => n.toUpperCase()] as const;
/** Two ways one person reaches the operator URL: the operators role, and an IAM Identity Center permission set. */
export const OPERATOR_ROLES = ['KillswitchOperators', 'AWSReservedSSO_KillswitchOncall_0123456789abcdef'] as const;

export const arnOf = (person: Person, spelling: number, role: number): string =>
  `arn:aws:sts::${ACCOUNT}:assumed-role/${OPERATOR_ROLES[role % OPERATOR_ROLES.length]}/${SPELLINGS[spelling % SPELLINGS.length]!(person)}`;

/** The person behind an operator ARN the model issued, or undefined (automation, break-glass, anyone else). */
export function personOf(arn: string | undefined): Person | undefined {
  const m = arn && /^arn:aws:sts::\d{12}:assumed-role\/([^/]+)\/([^/]+)$/.exec(arn);
  if (!m || !(OPERATOR_ROLES as readonly string[]).includes(m[1]!)) return undefined;
  const name = m[2]!.toLowerCase();
  return (PERSONS as readonly string[]).includes(name) ? (name as Person) : undefined;
}

export const SEVERITIES = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;
export type Severity = (typeof SEVERITIES)[number];
export const rank = (s: Severity): number => SEVERITIES.indexOf(s) + 1;
/** The sample policy: HIGH and CRITICAL pause, MEDIUM and LOW are recorded. */
export const pauses = (s: Severity): boolean => rank(s) >= rank('HIGH');

export interface ModelRequest {
  requestId: string;
  kind: 'RESUME' | 'RESTORE_GRANTS';
  person: Person;
  incidentId: string;
  scope?: string;
  step: number;
  /** Virtual time of the approval, once approved. */
  approvedAt?: number;
  /** For a restore: the incident's datasets when it was requested, all that two people agreed to give back. */
  datasets?: string[];
}

export interface Model {
  fixture: ProgramFixture;
  /** Scopes the program's configuration declares. */
  scopes: string[];
  /** A scope the configuration does not have (a typo of a dataset). */
  typoScope: string;
  step: number;
  /** A scope that must be PAUSED: a pause answered success, or an anomaly whose policy pauses arrived. */
  obligations: { scope: string; step: number; what: string }[];
  /** New incidents, escalations and pause attempts, by scope: a resume requested before one must not apply. */
  incidentEvents: { scope: string; step: number; what: string }[];
  /** Per anomaly report identity (anomaly and scope): the highest severity and the datasets reported so far. */
  anomalies: Map<string, { maxRank: number; datasets: Set<string> }>;
  /** Every anomaly put on the bus, for "nothing is lost". */
  anomaliesPut: { anomalyId: string; step: number }[];
  requests: ModelRequest[];
  /**
   * Approvals whose call died after the resume was written, which the client has not run again yet:
   * their version's record is owed until it does (every sequence ends with the client retrying).
   */
  inFlight: Map<string, { arn: string; scope: string; version: number; step: number }>;
  /** Incidents an operator asked to notify. */
  notified: Set<string>;
  /** Free text and identities that must never reach what collectors read. */
  secrets: Set<string>;
  /** The real system as last observed, to choose what commands refer to (never to decide what is right). */
  view: { states: ObservedState[]; incidents: ObservedIncident[] };
  stats: Record<string, number>;
}

export function newModel(fixture: ProgramFixture, regions: string[]): Model {
  return {
    fixture,
    scopes: ['*', ...fixture.datasetIds.map((d) => `category#${d}`), ...regions.map((r) => `region#${r}`)],
    typoScope: `category#${fixture.datasetIds[0]!.slice(0, -1)}`,
    step: 0,
    obligations: [],
    incidentEvents: [],
    anomalies: new Map(),
    anomaliesPut: [],
    requests: [],
    inFlight: new Map(),
    notified: new Set(),
    secrets: new Set(),
    view: { states: [], incidents: [] },
    stats: {},
  };
}

export const count = (model: Model, what: string): void => {
  model.stats[what] = (model.stats[what] ?? 0) + 1;
};

/**
 * An anomaly report: a first report, or an escalation (a higher severity, or datasets not reported
 * before), obliges; a report that adds nothing is a duplicate. `scope` is the scope after
 * normalisation (a scope the program does not have pauses the whole program).
 */
export function reportAnomaly(
  model: Model,
  key: string,
  scope: string,
  severity: Severity,
  datasets: string[],
): 'FIRST' | 'ESCALATION' | 'DUPLICATE' {
  const prior = model.anomalies.get(key);
  const named = datasets.length ? datasets : model.fixture.datasetIds;
  const kind = !prior ? 'FIRST' : rank(severity) > prior.maxRank || named.some((d) => !prior.datasets.has(d)) ? 'ESCALATION' : 'DUPLICATE';
  if (kind !== 'DUPLICATE') {
    model.incidentEvents.push({ scope, step: model.step, what: `anomaly ${key} ${severity} (${kind.toLowerCase()})` });
    if (pauses(severity)) model.obligations.push({ scope, step: model.step, what: `anomaly ${key} ${severity} (${kind.toLowerCase()})` });
  }
  model.anomalies.set(key, {
    maxRank: Math.max(prior?.maxRank ?? 0, rank(severity)),
    datasets: new Set([...(prior?.datasets ?? []), ...named]),
  });
  return kind;
}
