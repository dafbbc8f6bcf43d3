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
      },
      settings: s,
    });
  const show = (e: NoticeEntry, s?: NoticeSettings) =>
    records(e, s).show({ incidentId: e.incidentId, employeeId: 'e-1', noticeType: 'exposure' });

  it('rebuilds the text sent from the facts kept with it, not from the incident as it is now', async () => {
    const view = await show(entry);
    expect(view).toMatchObject({ reproduced: 'EXACT', templateId: 'exposure/v1/en', entry: { messageId: 'm-1' } });
    expect(view.text).toBe(sentNotice.text);
    const now = await show({ ...entry, sent: undefined });
    expect(now.reproduced).toBe('NOT_KEPT');
    expect(now.text).not.toBe(sentNotice.text); // it would now say access was revoked
  });

  it('says so when the text cannot be the one sent (settings changed), or was never sent', async () => {
    const changed = await show(entry, { ...settings, organisation: 'Example Holdings' });
    expect(changed.reproduced).toBe('CHANGED');
    expect(changed.text).toContain('Example Holdings');
    expect((await show({ ...entry, status: 'PENDING', sentAt: undefined, messageId: undefined, sent: undefined })).reproduced).toBe(
      'NOT_SENT',
    );
    await expect(show({ ...entry, sent: { ...entry.sent!, templateId: 'exposure/v0/xx' } })).rejects.toThrow(/template exposure\/v0\/xx/);
    await expect(
      new EmployeeNotices({
        notices: { get: async () => undefined },
        incidents: { get: async () => incident, timeline: async () => [] },
        settings,
      }).show({
        incidentId: incident.incidentId,
        employeeId: 'e-9',
        noticeType: 'exposure',
      }),
    ).rejects.toThrow(/no exposure notice for employee e-9/);
  });
});
