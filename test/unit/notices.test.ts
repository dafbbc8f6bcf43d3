import { describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { PublishBatchCommand, SNSClient } from '@aws-sdk/client-sns';
import { renderNotice, type NoticeContext } from '#shared/notices/render.ts';
import { NoticePublisher } from '#shared/adapters/aws/notice-publisher.ts';
import { affectedEmployees } from '#shared/notices/audience.ts';
import { performSendBatch } from '#shared/notices/notice-work.ts';
import type { DataSubject } from '#shared/schemas/notices.ts';
import type { DataSubjectStore } from '#shared/adapters/dynamodb/data-subject-store.ts';

const context: NoticeContext = {
  incident: {
    incidentId: 'inc-20261127-5b40bfcd731b',
    openedAt: '2026-11-27T10:00:00Z',
    exposure: { audience: 'the all-staff group', window: { start: '2026-11-27T07:00:00Z', end: '2026-11-27T10:00:00Z' } },
    pausedAt: '2026-11-27T10:00:01Z',
    accessRevoked: true,
  },
  employee: {
    employeeId: 'E000042',
    categories: ['chat-transcripts', 'keystrokes'],
    heldFrom: '2026-09-01T00:00:00Z',
    heldTo: '2026-11-27T10:00:00Z',
  },
  settings: {
    organisation: 'Example Corp',
    contact: { email: 'privacy@example.com', url: 'https://privacy.example.com/incidents' },
    defaultLocale: 'en',
  },
};

describe('Function: renderNotice', () => {
  it('renders the exposure notice (plain text)', () => {
    expect(renderNotice('exposure', context).text).toMatchSnapshot();
  });

  it('renders the structured form with the legally required headings', () => {
    const notice = renderNotice('exposure', context);
    expect(notice.structured.sections.map((s) => s.heading)).toEqual([
      'What Happened',
      'What Information Was Involved',
      'What We Are Doing',
      'What You Can Do',
      'For More Information',
    ]);
    expect(notice.structured).toMatchObject({
      title: 'Notice of Data Breach',
      templateId: 'exposure/v1/en',
      employeeId: 'E000042',
      categories: ['chat-transcripts', 'keystrokes'],
    });
    expect(notice.structured).toMatchSnapshot();
  });

  it("names only the recipient's own categories", () => {
    const text = renderNotice('exposure', { ...context, employee: { ...context.employee, categories: ['mouse-activity'] } }).text;
    expect(text).toContain('your mouse movements and clicks');
    expect(text).not.toMatch(/keystrokes|transcripts/);
  });

  it('chooses the locale, its language for a region, then the default locale, then English', () => {
    expect(renderNotice('exposure', context, 'fr-FR').templateId).toBe('exposure/v1/fr');
    expect(renderNotice('exposure', context, 'es-ES').templateId).toBe('exposure/v1/en');
  });

  it('says what is still being done when access is not yet confirmed revoked and the window is unknown', () => {
    const text = renderNotice('exposure', {
      ...context,
      incident: { ...context.incident, accessRevoked: false, exposure: undefined },
    }).text;
    expect(text).toContain('We are removing the access');
    expect(text).toContain('the investigation is establishing since when');
  });
});

describe('Class: NoticePublisher', () => {
  const notice = renderNotice('exposure', context);
  const outgoing = (n: number) =>
    Array.from({ length: n }, (_, i) => ({ employeeId: `E${i}`, incidentId: 'inc-20261127-5b40bfcd731b', noticeType: 'exposure', notice }));

  it('publishes up to ten per PublishBatch with the routing attributes and an ASCII subject', async () => {
    const client = new SNSClient({});
    const sns = mockClient(client);
    sns.on(PublishBatchCommand).callsFake((input) => ({
      Successful: input.PublishBatchRequestEntries.map((e: { Id: string }) => ({ Id: e.Id, MessageId: `m-${e.Id}` })),
    }));
    const results = await new NoticePublisher(client, 'arn:topic').publish(outgoing(10));
    expect(results.every((r) => r.ok)).toBe(true);
    const entry = sns.commandCalls(PublishBatchCommand)[0]!.args[0].input.PublishBatchRequestEntries![3]!;
    expect(entry.MessageAttributes).toMatchObject({
      employeeId: { StringValue: 'E3' },
      incidentId: { StringValue: 'inc-20261127-5b40bfcd731b' },
      noticeType: { StringValue: 'exposure' },
    });
    expect(entry.Subject).toMatch(/^[\x20-\x7e]+$/);
    expect(JSON.parse(entry.Message!)).toMatchObject({ format: 'killswitch.notice.v1', text: notice.text });
    await expect(new NoticePublisher(client, 'arn:topic').publish(outgoing(11))).rejects.toThrow(/at most 10/);
  });

  it('reports per-entry failures (partial batch)', async () => {
    const client = new SNSClient({});
    mockClient(client)
      .on(PublishBatchCommand)
      .resolves({
        Successful: [{ Id: 'n0', MessageId: 'm0' }],
        Failed: [{ Id: 'n1', Code: 'InternalError', Message: 'try again', SenderFault: false }],
      });
    const results = await new NoticePublisher(client, 'arn:topic').publish(outgoing(3));
    expect(results).toEqual([
      { ok: true, messageId: 'm0' },
      { ok: false, error: 'InternalError: try again', senderFault: false },
      { ok: false, error: 'not in the PublishBatch response', senderFault: false },
    ]);
  });
});

describe('Function: affectedEmployees', () => {
  /** An in-memory DataSubjects index that counts the pages it serves. */
  function storeOf(rows: DataSubject[], pageSize: number) {
    let pages = 0;
    const store = {
      page: async (datasetId: string, o: { after?: string; cursor?: string; limit?: number }) => {
        pages++;
        const all = rows
          .filter((r) => r.datasetId === datasetId && (!o.after || r.employeeId > o.after))
          .sort((a, b) => a.employeeId.localeCompare(b.employeeId));
        const start = Number(o.cursor ?? 0);
        const next = start + (o.limit ?? pageSize);
        return { subjects: all.slice(start, next), cursor: next < all.length ? String(next) : undefined };
      },
    } as unknown as DataSubjectStore;
    return { store, pages: () => pages };
  }
  const row = (
    datasetId: string,
    employeeId: string,
    category: string,
    from = '2026-09-01T00:00:00Z',
    to = '2026-11-01T00:00:00Z',
  ): DataSubject => ({
    datasetId,
    employeeId,
    categories: [category],
    heldFrom: from,
    heldTo: to,
  });

  it('yields each employee once with the union of categories, in id order, resumable', async () => {
    const { store } = storeOf(
      [
        row('k', 'E2', 'keystrokes'),
        row('k', 'E1', 'keystrokes', '2026-08-01T00:00:00Z'),
        row('t', 'E1', 'chat-transcripts', undefined, '2026-11-20T00:00:00Z'),
        row('m', 'E3', 'mouse-activity'),
      ],
      2,
    );
    const all = [];
    for await (const e of affectedEmployees(store, ['k', 't', 'm'], { pageSize: 1 })) all.push(e);
    expect(all).toEqual([
      {
        employeeId: 'E1',
        categories: ['chat-transcripts', 'keystrokes'],
        datasetIds: ['k', 't'],
        heldFrom: '2026-08-01T00:00:00Z',
        heldTo: '2026-11-20T00:00:00Z',
      },
      { employeeId: 'E2', categories: ['keystrokes'], datasetIds: ['k'], heldFrom: '2026-09-01T00:00:00Z', heldTo: '2026-11-01T00:00:00Z' },
      {
        employeeId: 'E3',
        categories: ['mouse-activity'],
        datasetIds: ['m'],
        heldFrom: '2026-09-01T00:00:00Z',
        heldTo: '2026-11-01T00:00:00Z',
      },
    ]);
    const resumed = [];
    for await (const e of affectedEmployees(store, ['k', 't', 'm'], { after: 'E1' })) resumed.push(e.employeeId);
    expect(resumed).toEqual(['E2', 'E3']);
  });

  it('reads lazily: stopping early reads only the pages it needed', async () => {
    const rows = Array.from({ length: 1000 }, (_, i) => row('k', `E${String(i).padStart(4, '0')}`, 'keystrokes'));
    const { store, pages } = storeOf(rows, 10);
    let n = 0;
    for await (const _ of affectedEmployees(store, ['k'], { pageSize: 10 })) if (++n === 25) break;
    expect(pages()).toBe(3);
  });
});

describe('Function: performSendBatch', () => {
  const batch = {
    type: 'send' as const,
    incidentId: 'inc-20261127-5b40bfcd731b',
    noticeType: 'exposure' as const,
    employeeIds: ['E1', 'E2', 'E3'],
  };
  const setup = (partial: { sent: string[]; failed: { employeeId: string; error: string }[]; skipped: string[]; inFlight?: string[] }) => {
    const report = { inFlight: [], ...partial };
    const calls: { options: { lastAttempt: boolean } }[] = [];
    const dead: { body: string; reason: string }[] = [];
    const deps = {
      sender: { send: async (_b: unknown, options: { lastAttempt: boolean }) => (calls.push({ options }), report) } as never,
      deadLetters: { send: async (body: string, reason: string) => void dead.push({ body, reason }) } as never,
      maxAttempts: 5,
    };
    return { deps, calls, dead };
  };

  it('retries a batch with rejected notices before the last delivery, counting what was sent', async () => {
    const { deps, dead } = setup({ sent: ['E1'], failed: [{ employeeId: 'E2', error: 'Throttled' }], skipped: ['E3'] });
    await expect(performSendBatch(batch, 2, deps)).rejects.toMatchObject({ name: 'NoticeBatchRetry', sent: 1 });
    expect(dead).toEqual([]);
  });

  it('on the last delivery, dead-letters only the failed notices with their errors, and succeeds', async () => {
    const { deps, calls, dead } = setup({
      sent: ['E1'],
      failed: [
        { employeeId: 'E2', error: 'Throttled' },
        { employeeId: 'E3', error: 'Throttled' },
      ],
      skipped: [],
    });
    const report = await performSendBatch(batch, 5, deps);
    expect(report.lastAttempt).toBe(true);
    expect(calls[0]!.options).toEqual({ lastAttempt: true });
    expect(JSON.parse(dead[0]!.body).employeeIds).toEqual(['E2', 'E3']);
    expect(dead[0]!.reason).toBe('notices marked FAILED after 5 attempts: Throttled');
  });

  it('retries a batch whose notices another delivery still holds, instead of forgetting them', async () => {
    const { deps, dead } = setup({ sent: ['E1'], failed: [], skipped: [], inFlight: ['E2'] });
    await expect(performSendBatch(batch, 1, deps)).rejects.toMatchObject({ name: 'NoticeBatchRetry', sent: 1 });
    expect(dead).toEqual([]);
    const last = setup({ sent: [], failed: [], skipped: [], inFlight: ['E2'] });
    await performSendBatch(batch, 5, last.deps);
    expect(JSON.parse(last.dead[0]!.body)).toMatchObject({ employeeIds: [], inFlight: ['E2'] });
    expect(last.dead[0]!.reason).toBe(
      'notices marked FAILED after 5 attempts: none; 1 not sent (their bucket stayed claimed by another delivery, the time ran out, or their outcome could not be recorded): resend-failed queues them again',
    );
  });
});
