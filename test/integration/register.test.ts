import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IncidentLedger, LedgerTable } from '#shared/adapters/dynamodb/ledger/index.ts';
import { ProgramRegistry } from '#shared/runtime/env.ts';
import { BreachRegister } from '#shared/record/register.ts';
import { startTestDynamo, type TestDynamo } from '../support/dynamo.ts';
import { incidentRecord } from '../support/fixtures.ts';

/*
 * The breach register exports a period from its start, within [since, until], from the ledger's
 * index — found by an attacker's review: it read the newest incidents since `since` and applied
 * `until` after, so an older period came back empty and not even marked truncated.
 */
describe('Breach register: a period, from its start, every incident of it', () => {
  let db: TestDynamo;
  let ledger: IncidentLedger;
  const ALICE = { id: 'arn:aws:sts::111111111111:assumed-role/KillswitchOperators/alice', person: 'alice', verified: true } as const;
  const programs = new ProgramRegistry([
    { programId: 'mci', datasetIds: ['keystrokes'], severityPolicy: { LOW: 'ALERT', MEDIUM: 'ALERT', HIGH: 'PAUSE', CRITICAL: 'PAUSE' } },
    { programId: 'other', datasetIds: ['keystrokes'], severityPolicy: { LOW: 'ALERT', MEDIUM: 'ALERT', HIGH: 'PAUSE', CRITICAL: 'PAUSE' } },
  ] as never);
  beforeAll(async () => {
    db = await startTestDynamo();
    ledger = new IncidentLedger(new LedgerTable(db.doc, db.tables.ledger));
    const open = (programId: string, month: number, day: number) =>
      ledger.open(
        incidentRecord({
          incidentId: `inc-2026${String(month).padStart(2, '0')}${String(day).padStart(2, '0')}-${programId === 'mci' ? 'a' : 'b'}${'0'.repeat(11)}`,
          programId,
          openedAt: new Date(Date.UTC(2026, month - 1, day, 9)).toISOString(),
        }),
      );
    for (const day of [3, 5, 7]) await open('mci', 1, day);
    for (const day of [1, 2, 3, 4, 5, 6, 7, 8]) await open('mci', 7, day);
    await open('other', 1, 4);
  });
  afterAll(() => db?.dynamo.stop());

  const register = (limit: number) =>
    new BreachRegister({ programs, incidents: ledger, limit, clock: () => new Date('2026-12-04T00:00:00Z') });

  it('January alone: its four incidents of both programs, oldest first, not truncated', async () => {
    const view = await register(5).export({ since: '2026-01-01T00:00:00Z', until: '2026-01-31T23:59:59Z' }, ALICE);
    expect(view.entries.map((e) => [e.programId, e.openedAt.slice(0, 10)])).toEqual([
      ['mci', '2026-01-03'],
      ['other', '2026-01-04'],
      ['mci', '2026-01-05'],
      ['mci', '2026-01-07'],
    ]);
    expect(view.truncated).toBe(false);
  });

  it('a year longer than one export: cut at its end, from the start, and said so', async () => {
    const view = await register(5).export({ since: '2026-01-01T00:00:00Z' }, ALICE);
    expect(view.entries.map((e) => e.openedAt.slice(0, 10))).toEqual([
      '2026-01-03',
      '2026-01-04',
      '2026-01-05',
      '2026-01-07',
      '2026-07-01',
    ]);
    expect(view.truncated).toBe(true);
    // The rest, from where the file stopped.
    const rest = await register(50).export({ since: '2026-07-01T09:00:00.001Z', programId: 'mci' }, ALICE);
    expect(rest.entries).toHaveLength(7);
    expect(rest.truncated).toBe(false);
  });

  it('refuses an unknown program and an end before the start, naming the field', async () => {
    await expect(register(5).export({ programId: 'nope' }, ALICE)).rejects.toThrow(/nope/);
    const { RegisterCommandSchema } = await import('#shared/schemas/operator.ts');
    const parsed = RegisterCommandSchema.safeParse({ action: 'register', since: '2026-02-01T00:00:00Z', until: '2026-01-01T00:00:00Z' });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual(['until']);
  });
});
