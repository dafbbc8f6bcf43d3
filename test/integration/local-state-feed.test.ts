import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '#local/stack.ts';
import { seedPrograms } from '#local/seed.ts';
import { AgentGate, memorySeqStore } from '#agent/gate.ts';
import { deriveAgentSecret, signAck, ACK_SIGNATURE_HEADER } from '#agent/ack.ts';
import { verifyStateDocument, type Jwks } from '#agent/document.ts';
import { dynamoDocumentClient } from '#shared/adapters/aws/clients.ts';
import { DynamoAckStore } from '#shared/adapters/dynamodb/ack-store.ts';
import { ProgramStateStore } from '#shared/adapters/dynamodb/program-state-store.ts';
import { seqOf } from '#shared/killswitch/state-seq.ts';
import { ALICE, ledgerOf, operatorCall, putAnomaly } from '../support/local.ts';

const AGENTS = 20;

describe('Local stack: the signed state feed, endpoint agents and their acknowledgements', () => {
  let stack: LocalStack;
  let gates: AgentGate[];
  const master = () => new TextEncoder().encode(stack.agentEnrolmentSecret);
  const counts = async () => {
    const doc = dynamoDocumentClient();
    const seq = seqOf(await new ProgramStateStore(doc, stack.tables.programState).list('mci'));
    return new DynamoAckStore(doc, stack.tables.acks).counts('mci', seq, new Date());
  };
  const postAck = async (body: string, signature?: string) =>
    fetch(stack.endpoints.ackUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(signature ? { [ACK_SIGNATURE_HEADER]: signature } : {}) },
      body,
    });

  beforeAll(async () => {
    stack = await startLocalStack({ asyncRetryDelaysMs: [10, 20] });
    await seedPrograms(stack);
    await stack.functions.invoke('publish-state-feed', { source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} });
    gates = await Promise.all(
      Array.from({ length: AGENTS }, async (_, i) => {
        const collectorId = `laptop-${i}`;
        return new AgentGate({
          feedUrl: stack.endpoints.stateFeed,
          programId: 'mci',
          scopes: ['category#keystrokes'],
          refreshIntervalMs: 200,
          requestTimeoutMs: 5000,
          seqStore: memorySeqStore(),
          ack: { url: stack.endpoints.ackUrl, collectorId, secret: await deriveAgentSecret(master(), collectorId) },
        });
      }),
    );
    await Promise.all(gates.map((g) => g.start()));
  });
  afterAll(async () => {
    await Promise.all((gates ?? []).map((g) => g.stop()));
    await stack?.stop();
  });

  it('serves a document signed by the stack’s key (through KMS’s API), valid for the configured 300 s, with the key set beside it', async () => {
    const res = await fetch(`${stack.endpoints.stateFeed}state/mci.jws`);
    expect(res.headers.get('cache-control')).toBe('max-age=1');
    expect(res.headers.get('etag')).toMatch(/^"[0-9a-f]{32}"$/);
    const jwks = (await (await fetch(`${stack.endpoints.stateFeed}keys.json`)).json()) as Jwks;
    const result = await verifyStateDocument((await res.text()).trim(), jwks, {
      programId: 'mci',
      serverTime: Math.floor(Date.parse(res.headers.get('date')!) / 1000),
    });
    expect(result).toMatchObject({ valid: true, allowed: true, status: 'ACTIVE', seq: 1 });
    if (result.valid) expect(result.exp - result.iat).toBe(300);
    const until = Date.now() + 10_000;
    while (!gates.every((g) => g.allowed()) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(gates.filter((g) => !g.allowed()).map((g) => g.state().reason)).toEqual([]);
  });

  it('halts every agent after a pause, counts each one’s acknowledgement once, and records HALT_CONFIRMED', async () => {
    await putAnomaly(stack, { anomalyId: 'feed-test-1', severity: 'CRITICAL', datasetIds: ['transcripts'] });
    const until = Date.now() + 15_000;
    while (gates.some((g) => g.allowed()) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(gates.filter((g) => g.allowed())).toHaveLength(0);
    expect(gates.every((g) => g.state().status === 'PAUSED')).toBe(true);
    let c = await counts();
    while (c.halted < AGENTS && Date.now() < until) {
      await stack.idle();
      c = await counts();
    }
    expect(c).toMatchObject({ seq: 2, halted: AGENTS, collecting: 0, known: AGENTS, silent: 0 });
    // The same acknowledgement again (a retry, a replay): counted once.
    const body = JSON.stringify({
      collectorId: 'laptop-0',
      programId: 'mci',
      seq: 2,
      allowed: false,
      at: new Date().toISOString(),
      kind: 'heartbeat',
    });
    const secret = await deriveAgentSecret(master(), 'laptop-0');
    expect((await postAck(body, await signAck(secret, body))).status).toBe(202);
    await stack.idle();
    expect((await counts()).halted).toBe(AGENTS);
    const incidentId = (await new ProgramStateStore(dynamoDocumentClient(), stack.tables.programState).get('mci', '*'))!.state.incidentId!;
    const confirmed = (await ledgerOf(stack).incidents.timeline(incidentId)).filter((e) => e.type === 'HALT_CONFIRMED');
    expect(confirmed).toHaveLength(1);
    expect(confirmed[0]!.data).toMatchObject({ seq: 2, halted: AGENTS, known: AGENTS });
    // What the on-call operator sees, through the operator API (the Operator function's own read).
    const expected = { seq: 2, halted: AGENTS, collecting: 0, known: AGENTS, silent: 0 };
    const status = await operatorCall(stack, ALICE, { action: 'status', programId: 'mci' });
    expect(status.status).toBe(200);
    expect(status.body.result.programs[0].acknowledgements).toEqual(expected);
    const shown = await operatorCall(stack, ALICE, { action: 'incident', incidentId });
    expect(shown.body.result.acknowledgements).toEqual(expected);
  });

  it('refuses forged, malformed and foreign acknowledgements with the reason, and they change no count', async () => {
    const before = await counts();
    const secret = await deriveAgentSecret(master(), 'laptop-1');
    const ack = { collectorId: 'laptop-1', programId: 'mci', seq: 99, allowed: true, at: new Date().toISOString(), kind: 'change' };
    const cases: [string, string | undefined, number, RegExp][] = [
      [JSON.stringify(ack), undefined, 401, /x-killswitch-signature: missing/],
      [JSON.stringify(ack), await signAck(await deriveAgentSecret(master(), 'laptop-2'), JSON.stringify(ack)), 401, /does not verify/],
      [JSON.stringify({ ...ack, seq: -1 }), await signAck(secret, JSON.stringify({ ...ack, seq: -1 })), 400, /^seq: /],
      [
        JSON.stringify({ ...ack, programId: 'other' }),
        await signAck(secret, JSON.stringify({ ...ack, programId: 'other' })),
        403,
        /programId/,
      ],
      ['{not json', undefined, 400, /not JSON/],
      [JSON.stringify({ ...ack, extra: 'x'.repeat(2000) }), undefined, 413, /larger than/],
    ];
    for (const [body, signature, status, reason] of cases) {
      const res = await postAck(body, signature);
      expect(res.status, body.slice(0, 60)).toBe(status);
      expect(((await res.json()) as { error: string }).error).toMatch(reason);
    }
    await stack.idle();
    expect(await counts()).toEqual(before);
  });
});
