// The system under test as it was on main before issue 13 (kept only to record what the model found).
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { dynamoDocumentClient } from '#shared/aws/clients.ts';
import { AnomalyEventSchema } from '#shared/schemas/anomaly.ts';
import { OperatorCommandSchema, BreakGlassCommandSchema } from '#shared/schemas/operator.ts';
import { parseOrThrow, ValidationError } from '#shared/errors.ts';
import { AnomalyTrigger } from '#shared/killswitch/trigger.ts';
import { OperatorService } from '#shared/killswitch/operator.ts';
import { ProgramRegistry } from '#shared/config/env.ts';
import { ProgramConfigSchema } from '#shared/schemas/config.ts';
import { ProgramStateStore } from '#shared/stores/program-state-store.ts';
import { AnomalyLog, ApprovalRequests, AuditTrail, IncidentLedger, LedgerTable, NoticeLedger, RevocationLedger } from '#shared/stores/ledger/index.ts';
import { DynamoGrantStore } from '#shared/stores/grant-store.ts';
import { DataSubjectStore } from '#shared/stores/data-subject-store.ts';
import { GrantRevoker } from '#shared/grants/revoker.ts';
import { GrantRestorer } from '#shared/grants/restorer.ts';
import { parseGrantWork, performGrantWork } from '#shared/grants/grant-work.ts';
import { NoticePlanner } from '#shared/notices/planner.ts';
import { NoticeSender } from '#shared/notices/sender.ts';
import { parsePlanWork, parseSendBatch, performPlanWork, performSendBatch } from '#shared/notices/notice-work.ts';
import { DetailType } from '#shared/schemas/domain-events.ts';
import { failure } from '#functions/operator/envelope.ts';
import type { DomainEventPublisher } from '#shared/aws/domain-event-publisher.ts';
import type { OperatorAlerts } from '#shared/aws/operator-alerts.ts';
import type { WorkQueue } from '#shared/aws/work-queue.ts';
import type { NoticePublisher } from '#shared/aws/notice-publisher.ts';
import type { DeadLetters } from '#shared/aws/dead-letters.ts';
import type { TestDynamo } from '../support/dynamo.ts';
import type { DeployedFacts } from './deployed.ts';
import { Crash, Faults, SimQueue, VirtualClock } from './sim.ts';
import type { Envelope, ProgramFixture, SystemUnderTest } from './system.ts';

export function systemV1(db: TestDynamo, facts: DeployedFacts, programs: ProgramFixture[]): SystemUnderTest {
  const clock = new VirtualClock();
  const faults = new Faults(clock);
  // The use cases' own client, through the faults; observations use the test's client, which none reach.
  const doc = faults.instrument(dynamoDocumentClient({ endpoint: db.dynamo.endpoint, region: 'eu-west-1', maxAttempts: 1 }));
  const ledger = new LedgerTable(doc, db.tables.ledger);
  const registry = new ProgramRegistry(programs.map((p) => ProgramConfigSchema.parse({ programId: p.programId, datasetIds: p.datasetIds })));
  const state = new ProgramStateStore(doc, db.tables.programState);
  const incidents = new IncidentLedger(ledger);
  const audit = new AuditTrail(ledger);
  const anomalies = new AnomalyLog(ledger);
  const approvals = new ApprovalRequests(ledger);
  const revocations = new RevocationLedger(ledger);
  const notices = new NoticeLedger(ledger);
  const grants = new DynamoGrantStore(doc, db.tables.grants);
  const subjects = new DataSubjectStore(doc, db.tables.dataSubjects);
  const delivered: { incidentId: string; employeeId: string }[] = [];
  let holding = false;

  const effect = <R>(run: () => R) => faults.around(true, false, async () => run());
  const queues = {} as Record<'anomalies' | 'grantWork' | 'planWork' | 'sendWork', SimQueue<unknown>>;
  const events = {
    publish: (detailType: string, detail: object) =>
      effect(() => {
        route(detailType, detail);
        return 'evt';
      }),
  } as unknown as DomainEventPublisher;
  const route = (detailType: string, detail: object) => {
    if (detailType !== DetailType.KillSwitchEngaged) return;
    queues.grantWork.send({ 'detail-type': detailType, detail }, clock.now, { held: holding });
    if ((detail as { notify?: string }).notify === 'auto') queues.planWork.send({ 'detail-type': detailType, detail }, clock.now);
  };
  const alerts = { send: () => effect(() => 'alert') } as unknown as OperatorAlerts;
  const workQueue = (name: keyof typeof queues) => ({ enqueue: (work: object) => effect(() => void queues[name].send(work, clock.now, { held: holding && name === 'grantWork' })) }) as unknown as WorkQueue<never>;
  const deadLetters = (name: keyof typeof queues) => ({ send: (body: string, reason: string) => effect(() => queues[name].deadLetter(JSON.parse(body), reason)) }) as unknown as DeadLetters;
  const publisher = {
    publish: (outgoing: { employeeId: string; incidentId: string }[]) =>
      effect(() =>
        outgoing.map((n) => {
          delivered.push({ incidentId: n.incidentId, employeeId: n.employeeId });
          return { ok: true as const, messageId: `m-${delivered.length}` };
        }),
      ),
  } as unknown as NoticePublisher;

  const base = { programs: registry, state, incidents, audit, approvals, anomalies, events, alerts, clock: clock.date };
  const trigger = new AnomalyTrigger(base);
  const operator = new OperatorService({ ...base, grantWork: workQueue('grantWork'), noticeWork: workQueue('planWork'), revocations, notices });
  const onePage = () => {
    let pages = 0;
    return { hasTime: () => pages++ < 1 };
  };
  const grantDeps = {
    revoker: new GrantRevoker(grants, revocations, { pageSize: 2, clock: clock.date }),
    restorer: new GrantRestorer(grants, revocations, { pageSize: 2, clock: clock.date }),
    work: workQueue('grantWork'),
    incidents,
    events,
    alerts,
    clock: clock.date,
  };
  const planner = new NoticePlanner({ subjects, notices, sendQueue: workQueue('sendWork'), clock: clock.date });
  const sender = new NoticeSender({ notices, incidents, publisher, settings: { organisation: 'Example', contact: { email: 'privacy@example.com' }, defaultLocale: 'en' }, clock: clock.date });

  const parsed = <T>(queue: SimQueue<unknown>, body: unknown, parse: (s: string) => T): T | undefined => {
    try {
      return parse(JSON.stringify(body));
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      queue.deadLetter(body, error.message);
      return undefined;
    }
  };
  queues.anomalies = new SimQueue('anomalies', facts.anomalyDelivery, async (event) => {
    await trigger.handle(parseOrThrow(AnomalyEventSchema, event, 'Anomaly Detected event').detail);
  });
  queues.grantWork = new SimQueue('grantWork', facts.grantWork, async (body) => {
    const work = parsed(queues.grantWork, body, parseGrantWork);
    if (work) await performGrantWork(work, onePage(), grantDeps);
  });
  queues.planWork = new SimQueue('planWork', facts.planWork, async (body) => {
    const work = parsed(queues.planWork, body, parsePlanWork);
    if (work) await performPlanWork(work, { hasTime: () => true }, { planner, planQueue: workQueue('planWork'), incidents, events, clock: clock.date });
  });
  queues.sendWork = new SimQueue('sendWork', facts.sendWork, async (body, receive) => {
    const batch = parsed(queues.sendWork, body, parseSendBatch);
    if (batch) await performSendBatch(batch, receive, { sender, deadLetters: deadLetters('sendWork'), maxAttempts: facts.noticeMaxAttempts });
  });
  const all = [queues.anomalies, queues.grantWork, queues.planWork, queues.sendWork];

  /** A client that retries once after its call died (the CLI user runs the command again). */
  const withRetry = async (crashAfter: number | undefined, call: () => Promise<unknown>): Promise<Envelope> => {
    const attempt = async (crash: number | undefined): Promise<Envelope> => {
      faults.beginDelivery(crash);
      try {
        return { ok: true, result: (await call()) as Record<string, unknown> };
      } catch (error) {
        if (error instanceof Crash) throw error;
        return failure(error) as Envelope;
      } finally {
        faults.endDelivery();
      }
    };
    try {
      return await attempt(crashAfter);
    } catch (error) {
      if (!(error instanceof Crash)) throw error;
      return attempt(undefined);
    }
  };

  return {
    clock,
    faults,
    facts,
    queues: all,
    async setup(p) {
      await state.register(p.programId, { id: 'seed', verified: true }, clock.date());
      await grants.seed(p.grants.map((g) => ({ datasetId: g.datasetId, principal: g.principal, permission: 'READ', grantedBy: 'seed', grantedAt: clock.date().toISOString(), owner: g.owner })));
      await subjects.seed(p.subjects.map((s) => ({ ...s, heldFrom: '2026-09-01T00:00:00Z', heldTo: '2026-12-01T00:00:00Z' })));
    },
    putAnomaly(detail, { copies, crashAfter }) {
      const event = { version: '0', id: `e-${clock.now}-${Math.random()}`, 'detail-type': 'Anomaly Detected', source: 'com.example.dlp', account: '111111111111', time: clock.date().toISOString(), region: 'eu-west-1', resources: [], detail };
      const [first] = queues.anomalies.send(event, clock.now, { copies });
      if (first && crashAfter) first.crashes.set(1, crashAfter);
    },
    operator(principalArn, command, { crashAfter }) {
      return withRetry(crashAfter, () => operator.execute(parseOrThrow(OperatorCommandSchema, command, 'operator command'), { id: principalArn, verified: true }));
    },
    breakGlass(command, { crashAfter }) {
      return withRetry(crashAfter, () => operator.pause(parseOrThrow(BreakGlassCommandSchema, command, 'break-glass command'), { id: 'break-glass:unverified', verified: false }));
    },
    forgeDomainEvent(detailType, detail) {
      if (!facts.detectorsCanPublishDomainEvents) return false;
      route(detailType, detail);
      return true;
    },
    forgeGrantWork(body) {
      if (!facts.anyRuleCanEnqueueGrantWork) return false;
      queues.grantWork.send(body, clock.now);
      return true;
    },
    holdGrantWork(on) {
      holding = on;
    },
    releaseHeld() {
      for (const q of all) q.release();
    },
    async settle() {
      for (let n = 0; ; n++) {
        if (n > 20_000) throw new Error('model: deliveries did not settle');
        let next: { q: SimQueue<unknown>; m: NonNullable<ReturnType<SimQueue<unknown>['peek']>> } | undefined;
        for (const q of all) {
          const m = q.peek();
          if (m && (!next || m.visibleAt < next.m.visibleAt)) next = { q, m };
        }
        if (!next) return;
        if (next.m.visibleAt > clock.now) clock.now = next.m.visibleAt;
        await next.q.deliver(next.m, clock.now, faults);
      }
    },
    observe: {
      async states(programId) {
        const out = await db.doc.send(new QueryCommand({ TableName: db.tables.programState, KeyConditionExpression: 'programId = :p', ExpressionAttributeValues: { ':p': programId }, ConsistentRead: true }));
        return (out.Items ?? []).map((raw) => ({ scope: String(raw.scope), status: raw.status as 'ACTIVE', version: Number(raw.version), incidentId: raw.incidentId as string | undefined, raw }));
      },
      async audit(programId, scope) {
        return (await new AuditTrail(new LedgerTable(db.doc, db.tables.ledger)).history(programId, scope)).map((a) => ({ version: a.version, status: a.status, trigger: a.trigger, by: a.by, incidentId: a.incidentId, requestId: a.requestId }));
      },
      async incidents(programId) {
        // Every incident of the program (the whole kind index, paged: the product's own list stops at 100 of all programs).
        const items: Record<string, unknown>[] = [];
        let ExclusiveStartKey: Record<string, unknown> | undefined;
        do {
          const page = await db.doc.send(new QueryCommand({ TableName: db.tables.ledger, IndexName: 'byKind', KeyConditionExpression: 'gsi1pk = :k', ExpressionAttributeValues: { ':k': 'INCIDENT' }, ExclusiveStartKey }));
          items.push(...(page.Items ?? []).filter((i) => i.programId === programId));
          ExclusiveStartKey = page.LastEvaluatedKey;
        } while (ExclusiveStartKey);
        return items.map((i) => ({ incidentId: String(i.incidentId), scope: String(i.scope), status: i.status as 'OPEN', action: String(i.action), openedAt: String(i.openedAt), resolvedAt: i.resolvedAt as string | undefined, datasetIds: i.datasetIds as string[], linkedIncidentId: i.linkedIncidentId as string | undefined }));
      },
      async timeline(incidentId) {
        return (await new IncidentLedger(new LedgerTable(db.doc, db.tables.ledger)).timeline(incidentId)).map((t) => ({ type: t.type, at: t.at, data: t.data }));
      },
      async request(requestId) {
        const r = await new ApprovalRequests(new LedgerTable(db.doc, db.tables.ledger)).get(requestId);
        return r && { requestId: r.requestId, kind: r.kind, status: r.status, incidentId: r.incidentId, requestedBy: r.requestedBy, approvedBy: r.approvedBy, requestedAt: r.requestedAt, ...(r.kind === 'RESUME' ? { expectedVersion: r.expectedVersion, stateVersion: r.stateVersion, scope: r.scope } : {}) };
      },
      async grants(datasetId) {
        const store = new DynamoGrantStore(db.doc, db.tables.grants);
        const out = [];
        let cursor: string | undefined;
        do {
          const page = await store.list(datasetId, cursor);
          out.push(...page.grants.map((g) => ({ datasetId: g.datasetId, principal: g.principal, owner: g.owner, status: g.status, revokedByIncidents: g.revokedByIncidents })));
          cursor = page.cursor;
        } while (cursor);
        return out;
      },
      async snapshots(incidentId) {
        return (await new RevocationLedger(new LedgerTable(db.doc, db.tables.ledger)).snapshots(incidentId, undefined, 1000)).snapshots.map((s) => ({ datasetId: s.datasetId, principal: s.principal, previousStatus: s.previousStatus }));
      },
      async notice(incidentId, employeeId) {
        const n = await new NoticeLedger(new LedgerTable(db.doc, db.tables.ledger)).get(incidentId, 'exposure', employeeId);
        return n && { status: n.status };
      },
      anomalyHandled: (programId, anomalyId) => new AnomalyLog(new LedgerTable(db.doc, db.tables.ledger)).isComplete(programId, anomalyId),
      delivered: () => delivered,
    },
  };
}
