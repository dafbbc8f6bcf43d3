import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { dynamoDocumentClient } from '#shared/adapters/aws/clients.ts';
import { BreakGlassCommandSchema, OperatorCommandSchema } from '#shared/schemas/operator.ts';
import { parseOrThrow, PermanentWorkError, ValidationError } from '#shared/domain/errors.ts';
import { AnomalyTrigger } from '#shared/killswitch/trigger.ts';
import { OperatorActions } from '#shared/killswitch/operator.ts';
import { BREAK_GLASS, operatorPrincipal } from '#shared/domain/identity.ts';
import { parseAnomalyEvent } from '#shared/killswitch/anomaly-event.ts';
import type { Alerts, DomainEvents, WorkQueue } from '#shared/killswitch/ports.ts';
import { ProgramRegistry } from '#shared/runtime/env.ts';
import { ProgramConfigSchema } from '#shared/schemas/config.ts';
import { ProgramStateStore } from '#shared/adapters/dynamodb/program-state-store.ts';
import {
  AnomalyLog,
  ApprovalRequests,
  AuditTrail,
  IncidentLedger,
  LedgerTable,
  NoticeLedger,
  RevocationLedger,
} from '#shared/adapters/dynamodb/ledger/index.ts';
import { DynamoGrantStore } from '#shared/adapters/dynamodb/grant-store.ts';
import { DataSubjectStore } from '#shared/adapters/dynamodb/data-subject-store.ts';
import { GrantRevoker } from '#shared/grants/revoker.ts';
import { GrantRestorer } from '#shared/grants/restorer.ts';
import { parseGrantWork, performGrantWork } from '#shared/grants/grant-work.ts';
import { NoticePlanner } from '#shared/notices/planner.ts';
import { NoticeSender } from '#shared/notices/sender.ts';
import { parsePlanWork, parseSendBatch, performPlanWork, performSendBatch } from '#shared/notices/notice-work.ts';
import { DetailType } from '#shared/schemas/domain-events.ts';
import { failure } from '#functions/operator/envelope.ts';
import type { NoticeChannel, OutgoingNotice } from '#shared/notices/ports.ts';
import type { DeadLetterSink } from '#shared/killswitch/ports.ts';
import type { TestDynamo } from '../support/dynamo.ts';
import type { DeployedFacts } from './deployed.ts';
import { ACCOUNT, OPERATOR_ROLES } from './model.ts';
import { Crash, Faults, SimQueue, VirtualClock } from './sim.ts';
import type { Envelope, ProgramFixture, SystemUnderTest } from './system.ts';

/**
 * The kill switch as deployed, for the model test: the real use cases and stores on dynalite, wired
 * as the functions wire them (shared/runtime/*-services.ts), with EventBridge, SQS and Lambda's
 * delivery simulated as the synthesized templates configure them (deployed.ts), and the operator's
 * identity resolved as the operator function resolves it. Forged messages are delivered to their
 * consumers even where the deployed policies would refuse them, so the consumers' own checks are
 * tested too (defence in depth); `forge*` reports whether the policy would have let them through.
 */
export function systemV2(db: TestDynamo, facts: DeployedFacts, programs: ProgramFixture[]): SystemUnderTest {
  const clock = new VirtualClock();
  const faults = new Faults(clock);
  // The use cases' own client, through the faults; observations use the test's client, which none reach.
  const doc = faults.instrument(dynamoDocumentClient({ endpoint: db.dynamo.endpoint, region: 'eu-west-1', maxAttempts: 1 }));
  const ledger = new LedgerTable(doc, db.tables.ledger);
  const registry = new ProgramRegistry(
    programs.map((p) => ProgramConfigSchema.parse({ programId: p.programId, datasetIds: p.datasetIds, regions: p.regions })),
  );
  const trust = { account: ACCOUNT, roleNames: [...OPERATOR_ROLES] };
  const state = new ProgramStateStore(doc, db.tables.programState);
  const incidents = new IncidentLedger(ledger);
  const audit = new AuditTrail(ledger);
  const anomalies = new AnomalyLog(ledger);
  const approvals = new ApprovalRequests(ledger);
  const revocations = new RevocationLedger(ledger);
  const notices = new NoticeLedger(ledger, facts.noticeStaleClaimMs);
  const grants = new DynamoGrantStore(doc, db.tables.grants);
  const subjects = new DataSubjectStore(doc, db.tables.dataSubjects);
  const delivered: { incidentId: string; employeeId: string }[] = [];
  let holding = false;

  const effect = <R>(run: () => R) => faults.around(true, false, async () => run());
  const queues = {} as Record<'anomalies' | 'grantWork' | 'planWork' | 'sendWork', SimQueue<unknown>>;
  /** The domain bus's rules: Engaged to grant work; Engaged and Escalated to notice planning. */
  const route = (detailType: string, detail: object) => {
    if (detailType === DetailType.KillSwitchEngaged)
      queues.grantWork.send({ 'detail-type': detailType, detail }, clock.now, { held: holding });
    if (detailType === DetailType.KillSwitchEngaged || detailType === DetailType.IncidentEscalated)
      queues.planWork.send({ 'detail-type': detailType, detail }, clock.now);
  };
  const events: DomainEvents = { publish: (detailType, detail) => effect(() => (route(detailType, detail), 'evt')) };
  const alerts: Alerts = { send: () => effect(() => 'alert') };
  const workQueue = <T extends object>(name: keyof typeof queues): WorkQueue<T> => ({
    enqueue: (work) => effect(() => void queues[name].send(work, clock.now, { held: holding && name === 'grantWork' })),
  });
  const deadLetters = (name: keyof typeof queues): DeadLetterSink => ({
    send: (body: string, reason: string) => effect(() => queues[name].deadLetter(JSON.parse(body), reason)),
  });
  // As SNS PublishBatch: at most ten a call.
  const publisher: NoticeChannel = {
    batchSize: 10,
    publish: (outgoing: OutgoingNotice[]) =>
      effect(() =>
        outgoing.map((n) => {
          delivered.push({ incidentId: n.incidentId, employeeId: n.employeeId });
          return { ok: true as const, messageId: `m-${delivered.length}` };
        }),
      ),
  };

  const base = { programs: registry, state, incidents, audit, approvals, anomalies, events, alerts, clock: clock.date };
  const trigger = new AnomalyTrigger(base);
  const operator = new OperatorActions({
    ...base,
    grantWork: workQueue('grantWork'),
    noticeWork: workQueue('planWork'),
    revocations,
    notices,
    grants,
  });
  const onePage = () => {
    let pages = 0;
    return { hasTime: () => pages++ < 1 };
  };
  const grantDeps = {
    revoker: new GrantRevoker(grants, revocations, { pageSize: 2, clock: clock.date }),
    restorer: new GrantRestorer(grants, revocations, { pageSize: 2, clock: clock.date }),
    work: workQueue<never>('grantWork'),
    incidents,
    approvals,
    revocations,
    programs: registry,
    events,
    alerts,
    clock: clock.date,
  };
  const planner = new NoticePlanner({ subjects, notices, sendQueue: workQueue('sendWork'), clock: clock.date });
  const sender = new NoticeSender({
    notices,
    incidents,
    publisher,
    settings: { organisation: 'Example', contact: { email: 'privacy@example.com' }, defaultLocale: 'en' },
    clock: clock.date,
  });

  /** What the SQS worker does (shared/runtime/sqs-worker.ts): parse, perform, and keep what can never succeed in the DLQ. */
  const worker =
    <T>(name: keyof typeof queues, parse: (body: string) => T, perform: (work: T, receive: number) => Promise<unknown>) =>
    async (body: unknown, receive: number) => {
      let work: T;
      try {
        work = parse(JSON.stringify(body));
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error;
        return queues[name].deadLetter(body, error.message);
      }
      try {
        await perform(work, receive);
      } catch (error) {
        if (error instanceof PermanentWorkError) return queues[name].deadLetter(body, error.message);
        throw error;
      }
    };
  queues.anomalies = new SimQueue(
    'anomalies',
    facts.anomalyDelivery,
    worker(
      'anomalies',
      (b) => parseAnomalyEvent(b, registry, clock.date()),
      ({ anomaly, issues }) => trigger.handle(anomaly, issues),
    ),
  );
  queues.grantWork = new SimQueue(
    'grantWork',
    facts.grantWork,
    worker('grantWork', parseGrantWork, (work) => performGrantWork(work, onePage(), grantDeps)),
  );
  queues.planWork = new SimQueue(
    'planWork',
    facts.planWork,
    worker('planWork', parsePlanWork, (work) =>
      performPlanWork(
        work,
        { hasTime: () => true },
        { planner, planQueue: workQueue('planWork'), incidents, programs: registry, events, clock: clock.date },
      ),
    ),
  );
  queues.sendWork = new SimQueue(
    'sendWork',
    facts.sendWork,
    worker('sendWork', parseSendBatch, (batch, receive) =>
      performSendBatch(batch, receive, { sender, deadLetters: deadLetters('sendWork'), maxAttempts: facts.noticeMaxAttempts }),
    ),
  );
  const all = [queues.anomalies, queues.grantWork, queues.planWork, queues.sendWork];

  /** A client that retries once after its call died (the CLI user runs the command again). */
  const withRetry = async (crashAfter: number | undefined, call: () => Promise<unknown>, retryLater = false): Promise<Envelope> => {
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
      if (retryLater) return { ok: false, error: { kind: 'CRASHED', message: 'the call died; the client will run it again later' } };
      return attempt(undefined);
    }
  };

  const observer = new LedgerTable(db.doc, db.tables.ledger);
  return {
    clock,
    faults,
    facts,
    queues: all,
    async setup(p) {
      await state.register(p.programId, clock.date());
      await grants.seed(
        p.grants.map((g) => ({
          datasetId: g.datasetId,
          principal: g.principal,
          permission: 'READ',
          grantedBy: 'seed',
          grantedAt: clock.date().toISOString(),
          owner: g.owner,
        })),
      );
      await subjects.seed(p.subjects.map((s) => ({ ...s, heldFrom: '2026-09-01T00:00:00Z', heldTo: '2026-12-01T00:00:00Z' })));
    },
    putAnomaly(detail, { copies, crashAfter }) {
      const event = {
        version: '0',
        id: `e-${clock.now}-${Math.random()}`,
        'detail-type': 'Anomaly Detected',
        source: 'com.example.dlp',
        account: ACCOUNT,
        time: clock.date().toISOString(),
        region: 'eu-west-1',
        resources: [],
        detail,
      };
      const [first] = queues.anomalies.send(event, clock.now, { copies });
      if (first && crashAfter) first.crashes.set(1, crashAfter);
    },
    operator(principalArn, command, { crashAfter, retryLater }) {
      return withRetry(
        crashAfter,
        () => operator.execute(parseOrThrow(OperatorCommandSchema, command, 'operator command'), operatorPrincipal(principalArn, trust)),
        retryLater,
      );
    },
    breakGlass(command, { crashAfter }) {
      return withRetry(crashAfter, () =>
        operator.pauses.pause(parseOrThrow(BreakGlassCommandSchema, command, 'break-glass command'), BREAK_GLASS),
      );
    },
    forgeDomainEvent(detailType, detail) {
      route(detailType, detail);
      return facts.detectorsCanPublishDomainEvents;
    },
    forgeGrantWork(body) {
      queues.grantWork.send(body, clock.now);
      return facts.anyRuleCanEnqueueGrantWork;
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
        const out = await db.doc.send(
          new QueryCommand({
            TableName: db.tables.programState,
            KeyConditionExpression: 'programId = :p',
            ExpressionAttributeValues: { ':p': programId },
            ConsistentRead: true,
          }),
        );
        return (out.Items ?? []).map((raw) => ({
          scope: String(raw.scope),
          status: raw.status as 'ACTIVE',
          version: Number(raw.version),
          incidentId: raw.incidentId as string | undefined,
          raw,
        }));
      },
      async audit(programId, scope) {
        return (await new AuditTrail(observer).history(programId, scope)).map((a) => ({
          version: a.version,
          status: a.status,
          trigger: a.trigger,
          by: a.by,
          incidentId: a.incidentId,
          requestId: a.requestId,
        }));
      },
      async incidents(programId) {
        return (await new IncidentLedger(observer).list(programId)).map((i) => ({
          incidentId: i.incidentId,
          scope: i.scope,
          status: i.status,
          action: i.action,
          openedAt: i.openedAt,
          resolvedAt: i.resolvedAt,
          datasetIds: i.datasetIds,
          linkedIncidentId: i.linkedIncidentId,
        }));
      },
      async timeline(incidentId) {
        return (await new IncidentLedger(observer).timeline(incidentId)).map((t) => ({ type: t.type, at: t.at, data: t.data }));
      },
      async request(requestId) {
        const r = await new ApprovalRequests(observer).get(requestId);
        return (
          r && {
            requestId: r.requestId,
            kind: r.kind,
            status: r.status,
            incidentId: r.incidentId,
            requestedBy: r.requestedBy,
            approvedBy: r.approvedBy,
            requestedAt: r.requestedAt,
            ...(r.kind === 'RESUME' ? { expectedVersion: r.expectedVersion, stateVersion: r.stateVersion, scope: r.scope } : {}),
          }
        );
      },
      async grants(datasetId) {
        const store = new DynamoGrantStore(db.doc, db.tables.grants);
        const out = [];
        let cursor: string | undefined;
        do {
          const page = await store.list(datasetId, cursor);
          out.push(
            ...page.grants.map((g) => ({
              datasetId: g.datasetId,
              principal: g.principal,
              owner: g.owner,
              status: g.status,
              revokedByIncidents: g.revokedByIncidents,
            })),
          );
          cursor = page.cursor;
        } while (cursor);
        return out;
      },
      async snapshots(incidentId) {
        return (await new RevocationLedger(observer).snapshots(incidentId, undefined, 1000)).snapshots.map((s) => ({
          datasetId: s.datasetId,
          principal: s.principal,
          previousStatus: s.previousStatus,
        }));
      },
      async notice(incidentId, employeeId) {
        const n = await new NoticeLedger(observer).get(incidentId, 'exposure', employeeId);
        return n && { status: n.status };
      },
      async anomalyHandled(programId, anomalyId) {
        // Every scope the anomaly was reported on is recorded: some report of it took effect.
        const reports = await observer.queryPrefix(`ANOMALY#${programId}#${anomalyId}`, '#SCOPE#');
        return reports.some((r) => r.status === 'COMPLETED');
      },
      delivered: () => delivered,
    },
  };
}
