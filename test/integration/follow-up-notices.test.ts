import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '#local/stack.ts';
import { seedPrograms } from '#local/seed.ts';
import { dynamoDocumentClient } from '#shared/adapters/aws/clients.ts';
import { DataSubjectStore } from '#shared/adapters/dynamodb/data-subject-store.ts';
import { requiredHeadings } from '#shared/notices/templates/phrasebook.ts';
import { ALICE, BOB, drainGateway, operatorCall, putAnomaly } from '../support/local.ts';

/*
 * Follow-up notices (issue 19) through the deployed functions on the local stack: an update and a
 * resolved notice, each sent once per employee, in the employee's locale from the data-subject
 * index (the configured default where it has none), through the same delivery ledger as the
 * exposure notice. A second request sends nobody anything again; a resolved notice waits for the
 * incident to be closed by a two-person resume.
 */
const EMPLOYEES = 30;
const LOCALES = ['en', 'de', 'fr', undefined] as const;
const localeOf = (i: number) => LOCALES[i % LOCALES.length];

describe('Follow-up notices: once per employee and type, in their language', () => {
  let stack: LocalStack;
  let incidentId: string;
  beforeAll(async () => {
    stack = await startLocalStack({ asyncRetryDelaysMs: [10, 20] });
    await seedPrograms(stack);
    const program = stack.config.programs.find((p) => p.programId === 'mci')!;
    await new DataSubjectStore(dynamoDocumentClient(), stack.tables.dataSubjects).seed(
      Array.from({ length: EMPLOYEES }, (_, i) => ({
        datasetId: program.datasetIds[0]!,
        employeeId: `E${String(i).padStart(6, '0')}`,
        categories: ['keystrokes'],
        heldFrom: '2026-09-01T00:00:00Z',
        heldTo: '2026-11-30T00:00:00Z',
        ...(localeOf(i) ? { locale: localeOf(i) } : {}),
      })),
    );
    const before = new Set(stack.bus.journal.map((j) => j.event.id));
    await putAnomaly(stack, { anomalyId: 'follow-ups-1', datasetIds: [program.datasetIds[0]!] });
    await stack.idle();
    incidentId = (
      stack.bus.journal.find((j) => !before.has(j.event.id) && j.event['detail-type'] === 'Kill Switch Engaged')!.event.detail as {
        incidentId: string;
      }
    ).incidentId;
  }, 120_000);
  afterAll(() => stack?.stop());

  const notify = async (noticeType: string) => {
    const response = await operatorCall(stack, ALICE, { action: 'notify', incidentId, noticeType });
    await stack.idle();
    return { response, delivered: (await drainGateway(stack)).filter((m) => m.incidentId === incidentId) };
  };
  const expectOnceInTheirLocale = (delivered: { employeeId: string; templateId: string; text: string }[], type: string) => {
    expect(new Set(delivered.map((m) => m.employeeId)).size).toBe(EMPLOYEES);
    expect(delivered).toHaveLength(EMPLOYEES);
    for (const m of delivered) {
      const locale = localeOf(Number(m.employeeId.slice(1))) ?? 'en';
      expect(m.templateId).toBe(`${type}/v1/${locale}`);
      for (const heading of requiredHeadings(locale)) expect(m.text).toContain(heading);
      expect(m.text).toContain(incidentId);
    }
  };

  it('an update waits for the exposure notice, then goes once to every employee it reached, in their locale; asking again is refused', async () => {
    const early = await operatorCall(stack, ALICE, { action: 'notify', incidentId, noticeType: 'update' });
    expect(early).toMatchObject({ status: 409, body: { ok: false, error: { kind: 'CONFLICT' } } });
    expect(early.body.error.message).toMatch(/send it first/);

    const exposure = await notify('exposure');
    expect(exposure.response.status).toBe(200);
    expectOnceInTheirLocale(exposure.delivered, 'exposure');

    // Found by an attacker's review: someone added to the index after the exposure notice went
    // out was sent an update of a notice they never had. A follow-up goes only to those the
    // exposure notice reached, and the timeline says how many were left out.
    await new DataSubjectStore(dynamoDocumentClient(), stack.tables.dataSubjects).seed([
      {
        datasetId: stack.config.programs.find((p) => p.programId === 'mci')!.datasetIds[0]!,
        employeeId: 'E999999',
        categories: ['keystrokes'],
        heldFrom: '2026-09-01T00:00:00Z',
        heldTo: '2026-11-30T00:00:00Z',
      },
    ]);
    const update = await notify('update');
    expect(update.response.status).toBe(200);
    expectOnceInTheirLocale(update.delivered, 'update');
    const planned = (await operatorCall(stack, ALICE, { action: 'incident', incidentId })).body.result.timeline.find(
      (t: { type: string; data?: { noticeType?: string } }) => t.type === 'NOTICES_PLANNED' && t.data?.noticeType === 'update',
    );
    expect(planned.data).toMatchObject({ planned: EMPLOYEES, notSent: 1 });
    // A second update is refused (each notice type goes once), instead of answering ok and sending nothing.
    const again = await operatorCall(stack, ALICE, { action: 'notify', incidentId, noticeType: 'update' });
    expect(again).toMatchObject({ status: 409, body: { ok: false, error: { kind: 'CONFLICT' } } });
    expect((await drainGateway(stack)).filter((m) => m.incidentId === incidentId)).toEqual([]);
  });

  it('the resolved notice waits for a two-person resume to close the incident, then goes once, saying collection restarted', async () => {
    const open = await operatorCall(stack, ALICE, { action: 'notify', incidentId, noticeType: 'resolved' });
    expect(open).toMatchObject({ status: 409, body: { ok: false, error: { kind: 'CONFLICT' } } });

    const request = await operatorCall(stack, ALICE, { action: 'request-resume', programId: 'mci', reason: 'ACL fixed', incidentId });
    expect(request.status).toBe(200);
    const approved = await operatorCall(stack, BOB, {
      action: 'approve-resume',
      programId: 'mci',
      requestId: request.body.result.request.requestId,
    });
    expect(approved.status).toBe(200);
    await stack.idle();

    const resolved = await notify('resolved');
    expect(resolved.response.status).toBe(200);
    expectOnceInTheirLocale(resolved.delivered, 'resolved');
    const byLocale = Object.fromEntries(resolved.delivered.map((m) => [m.templateId, m.text]));
    expect(byLocale['resolved/v1/en']).toMatch(/Collection restarted on/);
    expect(byLocale['resolved/v1/de']).toMatch(/Die Erfassung wurde am .* wieder aufgenommen/);
    expect(byLocale['resolved/v1/fr']).toMatch(/La collecte a repris le/);
    expect((await operatorCall(stack, ALICE, { action: 'notify', incidentId, noticeType: 'resolved' })).status).toBe(409);

    // Each employee's three notices are in the ledger, and each is shown exactly as sent.
    const shown = await operatorCall(stack, ALICE, { action: 'notice', incidentId, employeeId: 'E000001', noticeType: 'resolved' });
    expect(shown.body).toMatchObject({ ok: true, result: { templateId: 'resolved/v1/de', reproduced: 'EXACT' } });
  });
});
