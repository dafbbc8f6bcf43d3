import { randomUUID } from 'node:crypto';
import { compileEventPattern } from './event-pattern.ts';
import type { HttpHandler } from './http.ts';

export interface LocalRule {
  name: string;
  bus: string;
  pattern: unknown;
  /** Called for each matching event (the local runtime invokes the target function asynchronously). */
  deliver: (event: BusEvent) => void;
}

export interface BusEvent {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: unknown;
}

export interface JournalEntry {
  at: number;
  bus: string;
  event: BusEvent;
  rules: string[];
}

interface PutEventsEntry {
  Source?: string;
  DetailType?: string;
  Detail?: string;
  EventBusName?: string;
  Resources?: string[];
  Time?: string | number;
}

const MAX_ENTRIES = 10;
/** `X-Amz-Target` of the local bus's stand-in for AWS services putting their own events. */
export const LOCAL_SERVICE_EVENT_TARGET = 'KillswitchLocal.EmitServiceEvent';
const MAX_ENTRY_BYTES = 256 * 1024;

/**
 * A local EventBridge: speaks the PutEvents wire protocol (AWS JSON 1.1), so detectors and
 * functions use the real EventBridge client pointed at it through AWS_ENDPOINT_URL_EVENTBRIDGE;
 * routes each event to the rules whose synthesized pattern matches it. Delivery is
 * asynchronous, as in EventBridge.
 */
export class LocalEventBus {
  readonly journal: JournalEntry[] = [];
  readonly #rules: (LocalRule & { matches: (event: unknown) => boolean })[] = [];

  constructor(
    private readonly account: string,
    private readonly region: string,
    private readonly buses: readonly string[],
    private readonly journalLimit = 10_000,
  ) {}

  addRule(rule: LocalRule): void {
    this.#rules.push({ ...rule, matches: compileEventPattern(rule.pattern) });
  }

  /** PutEvents semantics: per-entry validation and results; a bad entry never blocks the others. */
  putEvents(entries: PutEventsEntry[]): {
    FailedEntryCount: number;
    Entries: ({ EventId: string } | { ErrorCode: string; ErrorMessage: string })[];
  } {
    const results = entries.map((entry) => this.#put(entry));
    return { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results };
  }

  /** The HTTP face: `X-Amz-Target: AWSEvents.PutEvents`. */
  handler(): HttpHandler {
    return async ({ headers, body }) => {
      const target = String(headers['x-amz-target'] ?? '');
      const error = (status: number, type: string, message: string) => ({
        status,
        headers: { 'content-type': 'application/x-amz-json-1.1' },
        body: JSON.stringify({ __type: type, message }),
      });
      if (target === LOCAL_SERVICE_EVENT_TARGET) {
        // Local only: an AWS service's own event (Macie, GuardDuty, Security Hub) onto the default bus.
        try {
          const event = JSON.parse(body) as BusEvent;
          const id = this.emitServiceEvent({ ...event, id: event.id ?? randomUUID() });
          return { status: 200, headers: { 'content-type': 'application/x-amz-json-1.1' }, body: JSON.stringify({ EventId: id }) };
        } catch (e) {
          return error(400, 'ValidationException', (e as Error).message);
        }
      }
      if (target !== 'AWSEvents.PutEvents')
        return error(400, 'UnknownOperationException', `the local bus supports only PutEvents, not ${target}`);
      let request: { Entries?: PutEventsEntry[] };
      try {
        request = JSON.parse(body) as { Entries?: PutEventsEntry[] };
      } catch {
        return error(400, 'SerializationException', 'request body is not JSON');
      }
      const entries = request.Entries ?? [];
      if (entries.length < 1 || entries.length > MAX_ENTRIES) {
        return error(400, 'ValidationException', `Entries must hold between 1 and ${MAX_ENTRIES} items`);
      }
      return { status: 200, headers: { 'content-type': 'application/x-amz-json-1.1' }, body: JSON.stringify(this.putEvents(entries)) };
    };
  }

  #put(entry: PutEventsEntry): { EventId: string } | { ErrorCode: string; ErrorMessage: string } {
    const fail = (ErrorCode: string, ErrorMessage: string) => ({ ErrorCode, ErrorMessage });
    if (!entry.Source) return fail('InvalidArgument', 'Parameter Source is not valid. Reason: Source is a required argument.');
    if (!entry.DetailType) return fail('InvalidArgument', 'Parameter DetailType is not valid. Reason: DetailType is a required argument.');
    if (!entry.Detail) return fail('InvalidArgument', 'Parameter Detail is not valid. Reason: Detail is a required argument.');
    // Sources starting with "aws." belong to AWS services: PutEvents refuses them, as in AWS.
    if (entry.Source.startsWith('aws.')) return fail('NotAuthorizedForSourceException', `Not authorized for the source ${entry.Source}.`);
    if (Buffer.byteLength(JSON.stringify(entry)) > MAX_ENTRY_BYTES) return fail('InvalidArgument', 'Entry is larger than 256 KB');
    let detail: unknown;
    try {
      detail = JSON.parse(entry.Detail);
    } catch {
      return fail('MalformedDetail', 'Detail is malformed.');
    }
    if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) return fail('MalformedDetail', 'Detail is malformed.');
    const bus = (entry.EventBusName ?? 'default').split('/').pop()!;
    if (!this.buses.includes(bus)) return fail('ResourceNotFoundException', `Event bus ${bus} does not exist.`);

    const time = entry.Time === undefined ? new Date() : new Date(typeof entry.Time === 'number' ? entry.Time * 1000 : entry.Time);
    const event: BusEvent = {
      version: '0',
      id: randomUUID(),
      'detail-type': entry.DetailType,
      source: entry.Source,
      account: this.account,
      time: time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: this.region,
      resources: entry.Resources ?? [],
      detail,
    };
    this.#route(bus, event);
    return { EventId: event.id };
  }

  /**
   * An event an AWS service (Macie, GuardDuty, Security Hub) puts on the account's default bus,
   * exactly as given: the local stand-in for the service side, which PutEvents cannot play.
   */
  emitServiceEvent(event: BusEvent): string {
    if (typeof event.source !== 'string' || !event.source.startsWith('aws.')) throw new Error('a service event has an "aws." source');
    if (!this.buses.includes('default')) throw new Error('the local bus has no default bus');
    const copy = structuredClone(event);
    this.#route('default', copy);
    return copy.id;
  }

  #route(bus: string, event: BusEvent): void {
    const matched = this.#rules.filter((r) => r.bus === bus && r.matches(event));
    this.journal.push({ at: performance.now(), bus, event, rules: matched.map((r) => r.name) });
    if (this.journal.length > this.journalLimit) this.journal.shift();
    // Asynchronous, like EventBridge: PutEvents returns before any target runs.
    for (const rule of matched) queueMicrotask(() => rule.deliver(structuredClone(event)));
  }
}
