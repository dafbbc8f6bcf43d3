import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startLocalStack, type LocalStack } from '#local/stack.ts';
import { seedPrograms } from '#local/seed.ts';
import { dynamoDocumentClient } from '#shared/adapters/aws/clients.ts';
import { ProgramStateStore } from '#shared/adapters/dynamodb/program-state-store.ts';
import { TableDefinitions, type TableName } from '#shared/adapters/dynamodb/table-definitions.ts';
import { ALICE, BOB, drain, operatorCall } from '../support/local.ts';
import { localOperatorHeaders } from '#local/sts.ts';
import { CALLER_PROOF_HEADER } from '#shared/adapters/aws/caller-proof.ts';

describe('Local stack: the synthesized system, wired in-process', () => {
  let stack: LocalStack;
  let state: ProgramStateStore;
  const eventBridge = () => new EventBridgeClient({});
  const anomaly = (overrides: Record<string, unknown> = {}) => ({
    anomalyId: `a-${Math.random().toString(36).slice(2)}`,
    programId: 'mci',
    detector: 'access-monitor',
    severity: 'CRITICAL',
    kind: 'access-exposure',
    datasetIds: ['transcripts'],
    observedAt: new Date().toISOString(),
    summary: 'readable by everyone',
    ...overrides,
  });
  const put = (detail: unknown, source = 'com.example.access-monitor') =>
    eventBridge().send(
      new PutEventsCommand({
        Entries: [{ EventBusName: stack.busName, Source: source, DetailType: 'Anomaly Detected', Detail: JSON.stringify(detail) }],
      }),
    );

  beforeAll(async () => {
    stack = await startLocalStack({ asyncRetryDelaysMs: [10, 20] });
    await seedPrograms(stack);
    state = new ProgramStateStore(dynamoDocumentClient(), stack.tables.programState);
  });
  afterAll(() => stack?.stop());

  it('creates every table with the key schema of its definition', async () => {
    const ddb = new DynamoDBClient({});
    for (const [role, def] of Object.entries(TableDefinitions)) {
      const { Table } = await ddb.send(new DescribeTableCommand({ TableName: stack.tables[role as TableName] }));
      expect(Table?.KeySchema).toEqual([
        { AttributeName: def.partitionKey.name, KeyType: 'HASH' },
        { AttributeName: def.sortKey.name, KeyType: 'RANGE' },
      ]);
      expect((Table?.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName)).toEqual(def.globalIndexes.map((i) => i.indexName));
    }
  });

  it('routes an anomaly from a configured detector to the trigger, which pauses the program', async () => {
    const result = await put(anomaly({ programId: 'mci' }));
    expect(result.FailedEntryCount).toBe(0);
    await stack.idle();
    const routed = stack.bus.journal.find((j) => j.event.id === result.Entries?.[0]?.EventId);
    expect(routed?.rules).toEqual(['AnomalyTriggerAnomalyRule']);
    expect((await state.get('mci', '*'))?.state).toMatchObject({ status: 'PAUSED', trigger: 'ANOMALY' });
    expect(stack.bus.journal.some((j) => j.event['detail-type'] === 'Kill Switch Engaged')).toBe(true);
  });

  it('does not route events from sources the configuration does not list', async () => {
    const before = stack.functions.log.length;
    const result = await put(anomaly(), 'com.example.unknown-detector');
    await stack.idle();
    expect(stack.bus.journal.find((j) => j.event.id === result.Entries?.[0]?.EventId)?.rules).toEqual([]);
    expect(stack.functions.log.length).toBe(before);
  });

  it('keeps an anomaly whose minimal fields are malformed in the intake DLQ at once, with the reason; nothing changes', async () => {
    const before = (await state.get('mci', '*'))?.state.version;
    await put(anomaly({ severity: 'APOCALYPTIC' }));
    await stack.idle();
    const dlq = await drain(stack, 'AnomalyTriggerIntakeDlq');
    expect(dlq).toHaveLength(1);
    expect(dlq[0]?.MessageAttributes?.ErrorMessage?.StringValue).toMatch(/detail\.severity/);
    expect(JSON.parse(dlq[0]!.Body!).detail.severity).toBe('APOCALYPTIC');
    expect((await state.get('mci', '*'))?.state.version).toBe(before);
  });

  it('pauses on a CRITICAL anomaly whose free text is odd (over-long, control characters): cleaned, never a reason not to pause', async () => {
    const { Entries } = await put(
      anomaly({
        programId: 'mci',
        scope: 'category#mouse',
        summary: `${'x'.repeat(3000)}\u0007`,
        detector: 'dlp\u0000',
        kind: 'Not-Kebab',
      }),
    );
    await stack.idle();
    expect((await state.get('mci', 'category#mouse'))?.state).toMatchObject({ status: 'PAUSED' });
    const engaged = stack.bus.journal.find(
      (j) => j.event['detail-type'] === 'Kill Switch Engaged' && (j.event.detail as { scope: string }).scope === 'category#mouse',
    );
    const view = await operatorCall(stack, ALICE, {
      action: 'incident',
      incidentId: (engaged!.event.detail as { incidentId: string }).incidentId,
    });
    expect(view.body.result.incident.inputIssues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^summary: cleaned/),
        expect.stringMatching(/^kind:/),
        expect.stringMatching(/^detector: cleaned/),
      ]),
    );
    expect(Entries?.[0]?.EventId).toBeDefined();
  });

  it('rejects a PutEvents entry whose Detail is not JSON, per entry', async () => {
    const result = await eventBridge().send(
      new PutEventsCommand({ Entries: [{ EventBusName: stack.busName, Source: 'x', DetailType: 'y', Detail: '{not json' }] }),
    );
    expect(result.FailedEntryCount).toBe(1);
    expect(result.Entries?.[0]?.ErrorCode).toBe('MalformedDetail');
  });

  it('takes the operator identity from the Function URL, and enforces two people for a resume', async () => {
    const status = await operatorCall(stack, ALICE, { action: 'status', programId: 'mci' });
    expect(status.status).toBe(200);
    const incidentId = status.body.result.programs[0].scopes.find((s: { scope: string }) => s.scope === '*').incidentId;

    const request = await operatorCall(stack, ALICE, { action: 'request-resume', programId: 'mci', reason: 'ACL fixed', incidentId });
    expect(request.status).toBe(200);
    // The same person, under another spelling of the session name: refused, with 403.
    const alias = await operatorCall(stack, ALICE.replace('/alice', '/Alice'), {
      action: 'approve-resume',
      programId: 'mci',
      requestId: request.body.result.request.requestId,
    });
    expect(alias).toMatchObject({ status: 403, body: { ok: false, error: { kind: 'REFUSED' } } });
    expect(request.status).toBe(200);
    const requestId = request.body.result.request.requestId;

    const self = await operatorCall(stack, ALICE, { action: 'approve-resume', programId: 'mci', requestId });
    expect(self).toMatchObject({ status: 403, body: { ok: false, error: { kind: 'REFUSED' } } });

    const approved = await operatorCall(stack, BOB, { action: 'approve-resume', programId: 'mci', requestId });
    expect(approved.status).toBe(200);
    expect(approved.body.result.state).toMatchObject({ status: 'ACTIVE', changedBy: 'resume' });
    expect(approved.body.result.request).toMatchObject({ approvedBy: BOB, approvedByPerson: 'bob', requestedByPerson: 'alice' });
  });

  it('refuses a Function URL call without a verified identity, and bad commands naming the field', async () => {
    expect((await operatorCall(stack, undefined, { action: 'status' })).status).toBe(403);
    const bad = await operatorCall(stack, ALICE, { action: 'pause', programId: 'mci' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.issues).toEqual([{ path: 'reason', message: expect.any(String) }]);
  });

  it('acts on a request context forged by a direct invocation (as an identity policy allows in AWS) only to pause, unverified', async () => {
    // A principal of the account whose own policy allows lambda:InvokeFunction can hand the function
    // any event. Here: bob's identity in the request context, no caller proof.
    const paused = await operatorCall(stack, ALICE, {
      action: 'pause',
      programId: 'mci',
      scope: 'region#us-east-1',
      reason: 'forgery test',
    });
    expect(paused.status).toBe(200);
    const request = await operatorCall(stack, ALICE, {
      action: 'request-resume',
      programId: 'mci',
      scope: 'region#us-east-1',
      reason: 'fixed',
      incidentId: paused.body.result.incidentId,
    });
    expect(request.status).toBe(200);
    const forged = (command: unknown, headers: Record<string, string> = {}) =>
      stack.functions.invoke('operator', {
        version: '2.0',
        rawPath: '/',
        headers,
        requestContext: {
          accountId: '111111111111',
          requestId: 'forged',
          domainName: new URL(stack.endpoints.operatorUrl).host,
          http: { method: 'POST', path: '/', sourceIp: '10.0.0.1' },
          authorizer: { iam: { userArn: BOB } },
        },
        body: JSON.stringify(command),
        isBase64Encoded: false,
      }) as Promise<{ statusCode: number; body: string }>;
    const approve = { action: 'approve-resume', programId: 'mci', requestId: request.body.result.request.requestId };
    const refused = await forged(approve);
    expect(refused.statusCode).toBe(403);
    expect(JSON.parse(refused.body).error.message).toMatch(/no caller proof/);
    // Alice's own proof, with bob's name in the context: refused too.
    const { [CALLER_PROOF_HEADER]: proof } = await localOperatorHeaders({
      stsEndpoint: stack.endpoints.sts,
      operatorUrl: stack.endpoints.operatorUrl,
      as: ALICE,
      body: JSON.stringify(approve),
      region: 'eu-west-1',
    });
    const mismatched = await forged(approve, { [CALLER_PROOF_HEADER]: proof! });
    expect(mismatched.statusCode).toBe(403);
    expect(JSON.parse(mismatched.body).error.message).toMatch(/caller proof is .*alice's, but the request was signed as .*bob/);
    expect((await state.get('mci', 'region#us-east-1'))!.state.status).toBe('PAUSED');
    // A pause still goes ahead: pausing is always allowed, and it is recorded as unverified.
    const pause = await forged({ action: 'pause', programId: 'mci', scope: 'category#mouse', reason: 'forged but harmless' });
    expect(pause.statusCode).toBe(200);
    expect(JSON.parse(pause.body).result.state).toMatchObject({ status: 'PAUSED', changedByVerified: false });
  });

  it('refuses direct invocation of the operator function, but lets break-glass pause (unverified)', async () => {
    const lambda = new LambdaClient({});
    await expect(
      lambda.send(new InvokeCommand({ FunctionName: 'operator', Payload: JSON.stringify({ action: 'status' }) })),
    ).rejects.toMatchObject({
      name: 'AccessDeniedException',
    });
    const out = await lambda.send(
      new InvokeCommand({
        FunctionName: 'break-glass',
        Payload: JSON.stringify({ action: 'pause', programId: 'mci', reason: 'URL unreachable' }),
      }),
    );
    const body = JSON.parse(Buffer.from(out.Payload!).toString());
    expect(body).toMatchObject({ ok: true, result: { outcome: 'PAUSED', state: { trigger: 'BREAK_GLASS', changedByVerified: false } } });
    const resume = await lambda.send(
      new InvokeCommand({ FunctionName: 'break-glass', Payload: JSON.stringify({ action: 'approve-resume' }) }),
    );
    expect(JSON.parse(Buffer.from(resume.Payload!).toString())).toMatchObject({ ok: false, error: { kind: 'BAD_INPUT' } });
  });
});
