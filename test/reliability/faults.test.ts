import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '#local/stack.ts';
import { seedDataSubjects, seedGrants, seedPrograms } from '#local/seed.ts';
import { dynamoDocumentClient } from '#shared/adapters/aws/clients.ts';
import { ProgramStateStore } from '#shared/adapters/dynamodb/program-state-store.ts';
import { quarantinesIn } from '#shared/grants/quarantine-policy.ts';
import { DynamoGrantStore } from '#shared/adapters/dynamodb/grant-store.ts';
import { AuditTrail, LedgerTable, NoticeLedger, RevocationLedger } from '#shared/adapters/dynamodb/ledger/index.ts';
import type { Grant } from '#shared/schemas/grants.ts';
import { ALICE, drain, drainGateway, operatorCall, putAnomaly } from '../support/local.ts';
import { FaultInjector, type OperationStats } from './fault-injection.ts';

const EMPLOYEES = 1000;
const POISONED = (employeeId: string) => employeeId.endsWith('7');
const RATES = {
  dynamoThrottle: 0.1,
  dynamo5xx: 0.05,
  snsTimeout: 0.05,
  snsEntryFailure: 0.1,
  eventsEntryFailure: 0.1,
  eventsFailFirstTry: true,
};

describe('Faults: throttling, 5xx, timeouts and partial failures in the SDK clients; everything converges', () => {
  let stack: LocalStack;
  const faults = new FaultInjector({ ...RATES, poisoned: (body) => POISONED(/"employeeId":"([^"]+)"/.exec(body)?.[1] ?? '') }, 7);
  let incidentId: string;
  let readers: Grant[];
  let operatorRetries = 0;
  const table: string[][] = [];

  beforeAll(async () => {
    stack = await startLocalStack({ asyncRetryDelaysMs: [10, 20, 40, 80] });
    await seedPrograms(stack);
    await seedGrants(stack, 20);
    await seedDataSubjects(stack, EMPLOYEES);
    faults.install();

    await putAnomaly(stack, { anomalyId: 'faults-1', summary: 'exposed under faults' });
    faults.enabled = true;
    await stack.idle();

    const engaged = stack.bus.journal.find((j) => j.event['detail-type'] === 'Kill Switch Engaged');
    incidentId = (engaged!.event.detail as { incidentId: string }).incidentId;
    // The operator's client retries a failed call, as the CLI's user would.
    for (;;) {
      const notify = await operatorCall(stack, ALICE, { action: 'notify', incidentId });
      if (notify.status === 200) break;
      operatorRetries++;
      expect(notify.status).toBeGreaterThanOrEqual(500);
    }
    await stack.idle();
    faults.enabled = false;
  }, 240_000);
  afterAll(async () => {
    faults.uninstall();
    console.log(
      ['', 'Fault injection: figures', ...table.map((r) => r.map((c, i) => (i ? c.padStart(10) : c.padEnd(34))).join(' ')), ''].join('\n'),
    );
    await stack?.stop();
  });

  it('injected every kind of fault, and the SDK and the functions retried them', () => {
    const rows = [...faults.stats.entries()].sort(([a], [b]) => a.localeCompare(b));
    const total = (f: (s: OperationStats) => number) => rows.reduce((n, [, s]) => n + f(s), 0);
    const failedInvocations = stack.functions.log.filter((l) => !l.ok);
    table.push(['operation', 'calls', 'attempts', 'faults', 'SDK retries', 'entries', 'entry fails']);
    for (const [op, s] of rows) table.push([op, s.operations, s.attempts, s.faults, s.retries, s.entries, s.entryFaults].map(String));
    table.push(
      [
        'all SDK operations',
        total((s) => s.operations),
        total((s) => s.attempts),
        total((s) => s.faults),
        total((s) => s.retries),
        total((s) => s.entries),
        total((s) => s.entryFaults),
      ].map(String),
    );
    const byFunction = new Map<string, number>();
    for (const l of failedInvocations) byFunction.set(l.function, (byFunction.get(l.function) ?? 0) + 1);
    table.push(['function invocations retried', ...[...byFunction].map(([f, n]) => `${f}=${n}`)]);
    if (process.env.KILLSWITCH_FAULTS_DEBUG)
      for (const [op, st] of rows) console.log('failed after retries', op, JSON.stringify(st.failed));
    table.push(['operator calls retried by client', String(operatorRetries)]);

    expect(faults.stats.get('DynamoDB UpdateItem')?.faults).toBeGreaterThan(0);
    expect(total((s) => s.retries)).toBeGreaterThan(0);
    expect(faults.stats.get('SNS PublishBatch')?.entryFaults).toBeGreaterThan(0);
    expect(faults.stats.get('SNS PublishBatch')?.faults).toBeGreaterThan(0);
    expect(faults.stats.get('EventBridge PutEvents')?.entryFaults).toBeGreaterThan(0);
    expect(failedInvocations.length).toBeGreaterThan(0);
  });

  it('paused once: one version, one audit entry', async () => {
    const doc = dynamoDocumentClient();
    expect((await new ProgramStateStore(doc, stack.tables.programState).get('mci', '*'))?.state).toMatchObject({
      status: 'PAUSED',
      version: 2,
      incidentId,
    });
    expect(await new AuditTrail(new LedgerTable(doc, stack.tables.ledger)).history('mci', '*')).toHaveLength(1);
  });

  it('revoked every grant once, owners never', async () => {
    const grants = new DynamoGrantStore(dynamoDocumentClient(), stack.tables.grants);
    const all: Grant[] = [];
    for (const datasetId of stack.config.programs[0]!.datasetIds) all.push(...(await grants.list(datasetId, undefined, 1000)).grants);
    readers = all.filter((g) => !g.owner);
    for (const g of readers) expect(g).toMatchObject({ status: 'REVOKED', revokedByIncidents: [incidentId] });
    for (const g of all.filter((g) => g.owner)) expect(g.status).toBe('ACTIVE');
    const snapshots = (
      await new RevocationLedger(new LedgerTable(dynamoDocumentClient(), stack.tables.ledger)).snapshots(incidentId, undefined, 1000)
    ).snapshots;
    // The registry's grants, each once, and each quarantined dataset's quarantine, once.
    const registry = snapshots.filter((s) => s.backend === 'dynamodb');
    expect(registry).toHaveLength(readers.length);
    const quarantines = stack.config.datasets.filter((d) => d.access.bucketPolicy);
    expect(snapshots.filter((s) => s.backend === 'bucketPolicy')).toHaveLength(quarantines.length);
    for (const d of quarantines)
      expect(quarantinesIn(d.access.bucketPolicy!.bucket, stack.bucketPolicies!.policy(d.access.bucketPolicy!.bucket))).toEqual([
        incidentId,
      ]);
    table.push(['grants revoked once / readers', `${registry.length}/${readers.length}`]);
  });

  it('notified every employee once; what could not be sent is FAILED in the ledger and kept in the DLQ; resend-failed completes it', async () => {
    const notices = new NoticeLedger(new LedgerTable(dynamoDocumentClient(), stack.tables.ledger));
    const poisoned = Array.from({ length: EMPLOYEES }, (_, i) => `E${String(i).padStart(6, '0')}`).filter(POISONED);
    const first = (await drainGateway(stack)).filter((d) => d.incidentId === incidentId);
    // Every poisoned notice ends FAILED; a few others may too (a fault on their last attempt):
    // that is "what cannot succeed", and resend-failed below delivers them as well.
    const counts = await notices.counts(incidentId);
    expect(counts).toMatchObject({ planned: EMPLOYEES, pending: 0, sending: 0 });
    expect(counts.sent + counts.failed).toBe(EMPLOYEES);
    expect(counts.failed).toBeGreaterThanOrEqual(poisoned.length);
    expect(counts.failed - poisoned.length).toBeLessThan(EMPLOYEES * 0.02);
    expect(first).toHaveLength(counts.sent);
    expect(first.some((d) => POISONED(d.employeeId))).toBe(false);
    for (const employeeId of poisoned) expect((await notices.get(incidentId, 'exposure', employeeId))?.status, employeeId).toBe('FAILED');
    // Each FAILED entry keeps the error of its last attempt: the poison's refusal, or whatever else
    // failed that attempt (an injected fault, or a real socket error from the emulator under load).
    const errors = await Promise.all(poisoned.map(async (employeeId) => (await notices.get(incidentId, 'exposure', employeeId))?.error));
    expect(errors.filter((e) => !e)).toEqual([]);
    expect(errors.some((e) => e!.includes('injected'))).toBe(true);

    // The send DLQ holds the batches of what failed, with the reason: enough to replay.
    const dead = [];
    for (let page = await drain(stack, 'ExposureNoticesSendDlq', 10); page.length; page = await drain(stack, 'ExposureNoticesSendDlq', 10))
      dead.push(...page);
    const deadEmployees = dead.flatMap((m) => (JSON.parse(m.Body!) as { employeeIds: string[]; inFlight?: string[] }).employeeIds);
    // Every notice that could not be sent is in the DLQ. (It may name more: a notice a batch gave up
    // on that another copy of the batch, planned again after a retry, sent later; the ledger says SENT.)
    const inDlq = new Set(deadEmployees);
    for await (const entry of notices.failed(incidentId, 'exposure', new Date()))
      expect(inDlq.has(entry.employeeId), entry.employeeId).toBe(true);
    for (const employeeId of inDlq) expect(['SENT', 'FAILED']).toContain((await notices.get(incidentId, 'exposure', employeeId))?.status);
    expect(dead[0]?.MessageAttributes?.ErrorMessage?.StringValue).toMatch(/marked FAILED after \d+ attempts: .*injected/);
    table.push([
      'notices FAILED (poisoned+other) / in DLQ',
      `${poisoned.length}+${counts.failed - poisoned.length}/${inDlq.size}`,
      `${dead.length} messages`,
    ]);

    // The cause is fixed; an operator resends the failed notices, still under the other faults.
    faults.rates = { ...RATES };
    faults.enabled = true;
    let resendRetries = 0;
    while ((await operatorCall(stack, ALICE, { action: 'resend-failed', incidentId })).status !== 200) resendRetries++;
    await stack.idle();
    faults.enabled = false;
    const second = (await drainGateway(stack)).filter((d) => d.incidentId === incidentId);
    const delivered = [...first, ...second];
    const unique = new Set(delivered.map((d) => d.employeeId));
    const lost = EMPLOYEES - unique.size;
    const duplicated = delivered.length - unique.size;
    table.push(['notices: affected / delivered', `${EMPLOYEES}/${delivered.length}`]);
    table.push(['notices resent after the fix', String(second.length), `operator retries=${resendRetries}`]);
    expect(second).toHaveLength(counts.failed);
    table.push(['lost (must be 0)', String(lost)]);
    table.push(['duplicated (must be 0)', String(duplicated)]);
    expect(lost).toBe(0);
    expect(duplicated).toBe(0);
    expect(await notices.counts(incidentId)).toMatchObject({ planned: EMPLOYEES, sent: EMPLOYEES, failed: 0, pending: 0, sending: 0 });
  }, 240_000);

  it('leaves no other dead letters: everything else converged', () => {
    const depths = Object.keys(stack.queues)
      .filter((name) => /Dlq|Rejected/.test(name) && name !== 'ExposureNoticesSendDlq')
      .map((name) => {
        const q = stack.fauxqs.inspectQueue(name);
        return [name, q ? q.messages.ready.length + q.messages.delayed.length + q.messages.inflight.length : 0] as const;
      });
    expect(depths.length).toBeGreaterThan(5);
    expect(depths.filter(([, n]) => n > 0)).toEqual([]);
    table.push(['other DLQs, messages', String(depths.reduce((n, [, d]) => n + d, 0))]);
  });
});
