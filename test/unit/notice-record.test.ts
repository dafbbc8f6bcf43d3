import { describe, expect, it } from 'vitest';
import { EmployeeNotices } from '#shared/notices/notice-record.ts';
import { renderNotice } from '#shared/notices/render.ts';
import { contextOf, factsOf, textHash } from '#shared/notices/sender.ts';
import type { Incident } from '#shared/schemas/ledger.ts';
import type { NoticeEntry, NoticeSettings } from '#shared/schemas/notices.ts';

/** An employee's own record: the text shown is the text sent, or it says it is not. */
describe('EmployeeNotices: one employee’s notice, shown again', () => {
  const settings: NoticeSettings = { organisation: 'Example Corp', contact: { email: 'privacy@example.com' }, defaultLocale: 'en' };
  const incident: Incident = {
    incidentId: 'inc-20261203-aaaaaaaaaaaa',
    programId: 'mci',
    scope: '*',
    severity: 'CRITICAL',
    status: 'OPEN',
    action: 'PAUSED',
    openedAt: '2026-12-03T09:00:00.000Z',
    openedBy: 'detector:dlp',
    trigger: 'ANOMALY',
    datasetIds: ['keystrokes'],
    unknownDatasetIds: [],
    notify: 'manual',
    revision: 1,
    inputIssues: [],
  };
  const employee = {
    employeeId: 'e-1',
    categories: ['keystrokes'],
    heldFrom: '2026-01-01T00:00:00.000Z',
    heldTo: '2026-12-01T00:00:00.000Z',
  };
  // As the sender rendered it: before access was revoked.
  const factsThen = factsOf({
    incident: { incidentId: incident.incidentId, openedAt: incident.openedAt, pausedAt: incident.openedAt, accessRevoked: false },
  });
  const sentNotice = renderNotice('exposure', { ...contextOf(incident.incidentId, factsThen), employee, settings });
  const entry: NoticeEntry = {
    incidentId: incident.incidentId,
    noticeType: 'exposure',
    ...employee,
    datasetIds: ['keystrokes'],
    status: 'SENT',
    attempts: 1,
    plannedAt: '2026-12-03T09:01:00.000Z',
    sentAt: '2026-12-03T09:01:02.000Z',
    messageId: 'm-1',
    sent: { templateId: sentNotice.templateId, textSha256: textHash(sentNotice.text), facts: factsThen },
  };
  // The incident now: access has been revoked since (a timeline entry the notice did not know of).
  const records = (e: NoticeEntry, s = settings) =>
    new EmployeeNotices({
      notices: { get: async () => e },
      incidents: {
        get: async () => incident,
        timeline: async () => [
          { incidentId: incident.incidentId, at: '2026-12-03T09:05:00.000Z', type: 'GRANTS_REVOKED', actor: 'x', message: 'm' },
        ],
        record: async (key: string) => (shownLog.push(key), true),
      },
      settings: s,
    });
  const dpo = { id: 'arn:aws:sts::111111111111:assumed-role/KillswitchOperators/dana', person: 'dana', verified: true };
  const shownLog: string[] = [];
  const show = (e: NoticeEntry, s?: NoticeSettings) =>
    records(e, s).show({ incidentId: e.incidentId, employeeId: 'e-1', noticeType: 'exposure' }, dpo);

  it('rebuilds the text sent from the facts kept with it, not from the incident as it is now', async () => {
    const view = await show(entry);
    expect(view).toMatchObject({ reproduced: 'EXACT', templateId: 'exposure/v1/en', entry: { messageId: 'm-1' } });
    expect(view.text).toBe(sentNotice.text);
    const now = await show({ ...entry, sent: undefined });
    expect(now.reproduced).toBe('NOT_KEPT');
    expect(now.text).not.toBe(sentNotice.text); // it would now say access was revoked
  });

  it('keeps the settings it was sent with: a later change of organisation or contact does not change the text shown', async () => {
    const later = await show(
      { ...entry, sent: { ...entry.sent!, facts: { ...entry.sent!.facts, settings } } },
      { ...settings, organisation: 'Example Holdings' },
    );
    expect(later.reproduced).toBe('EXACT');
    expect(later.text).toBe(sentNotice.text);
    expect(later.text).not.toContain('Example Holdings');
  });

  it('says so when the text cannot be the one sent (an edited entry), may have gone out, or was never sent', async () => {
    const edited = await show({ ...entry, sent: { ...entry.sent!, facts: { ...entry.sent!.facts, accessRevoked: true } } });
    expect(edited.reproduced).toBe('DIFFERS');
    expect((await show({ ...entry, status: 'SENDING', sentAt: undefined, messageId: undefined, sent: undefined })).reproduced).toBe(
      'UNCONFIRMED',
    );
    expect((await show({ ...entry, status: 'PENDING', sentAt: undefined, messageId: undefined, sent: undefined })).reproduced).toBe(
      'NOT_SENT',
    );
    await expect(show({ ...entry, sent: { ...entry.sent!, templateId: 'exposure/v0/xx' } })).rejects.toThrow(/template exposure\/v0\/xx/);
  });

  it('records who looked at whose notice before answering, even when the employee was not affected; only operators may', async () => {
    shownLog.length = 0;
    await show(entry);
    const none = new EmployeeNotices({
      notices: { get: async () => undefined },
      incidents: { get: async () => incident, timeline: async () => [], record: async (key: string) => (shownLog.push(key), true) },
      settings,
    });
    await expect(none.show({ incidentId: incident.incidentId, employeeId: 'e-9', noticeType: 'exposure' }, dpo)).rejects.toThrow(
      /no exposure notice for employee e-9/,
    );
    expect(shownLog).toEqual([
      expect.stringMatching(/^NOTICE_SHOWN#exposure#e-1#dana#/),
      expect.stringMatching(/^NOTICE_SHOWN#exposure#e-9#dana#/),
    ]);
    await expect(
      none.show({ incidentId: incident.incidentId, employeeId: 'e-9', noticeType: 'exposure' }, { id: 'detector:dlp', verified: true }),
    ).rejects.toThrow();
    expect(shownLog).toHaveLength(2);
  });
});
