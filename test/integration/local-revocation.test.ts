import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { startLocalStack, type LocalStack } from '#local/stack.ts';
import { SAMPLE_ACCOUNT_ROLE, seedGrants, seedPrograms } from '#local/seed.ts';
import { dynamoDocumentClient } from '#shared/adapters/aws/clients.ts';
import { DynamoGrantStore } from '#shared/adapters/dynamodb/grant-store.ts';
import { quarantinesIn } from '#shared/grants/quarantine-policy.ts';
import { ALICE, BOB, drain, operatorCall } from '../support/local.ts';

describe('Local stack: revocation on Kill Switch Engaged, two-person restore', () => {
  let stack: LocalStack;
  let grants: DynamoGrantStore;
  let incidentId: string;

  beforeAll(async () => {
    stack = await startLocalStack({ asyncRetryDelaysMs: [10, 20] });
    await seedPrograms(stack);
    await seedGrants(stack, 30);
    grants = new DynamoGrantStore(dynamoDocumentClient(), stack.tables.grants);
  });
  afterAll(() => stack?.stop());

  it('revokes every non-owner grant of the exposed dataset, and only of that dataset', async () => {
    await new EventBridgeClient({}).send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: stack.busName,
            Source: 'com.example.access-monitor',
            DetailType: 'Anomaly Detected',
            Detail: JSON.stringify({
              anomalyId: 'rev-1',
              programId: 'mci',
              detector: 'access-monitor',
              severity: 'HIGH',
              kind: 'access-exposure',
              datasetIds: ['transcripts'],
              observedAt: new Date().toISOString(),
              summary: 'all-staff can read transcripts',
            }),
          },
        ],
      }),
    );
    await stack.idle();

    const revoked = stack.bus.journal.find((j) => j.event['detail-type'] === 'Grants Revoked');
    // 33 registry grants, and the quarantine of s3://mci-transcripts/raw/ (the sample maps transcripts to its bucket policy).
    expect(revoked?.event.detail).toMatchObject({
      datasetIds: ['transcripts'],
      revoked: 34,
      owners: 1,
      alsoHeld: 0,
      notRevoked: 0,
      byBackend: { dynamodb: 33, bucketPolicy: 1 },
    });
    incidentId = (revoked!.event.detail as { incidentId: string }).incidentId;

    const owner = SAMPLE_ACCOUNT_ROLE(stack.config.account, 'mci-data-owner');
    expect(await grants.canAccess('group:all-staff', 'transcripts', 'READ')).toBe(false);
    expect(await grants.canAccess(owner, 'transcripts', 'ADMIN')).toBe(true);
    expect(await grants.canAccess('group:all-staff', 'keystrokes', 'READ')).toBe(true);
    expect(quarantinesIn('mci-transcripts', stack.bucketPolicies!.policy('mci-transcripts'))).toEqual([incidentId]);

    const view = await operatorCall(stack, ALICE, { action: 'incident', incidentId });
    expect(view.body.result.grants).toEqual({ revoked: 34, alsoHeld: 0, restored: 0 });
    expect(view.body.result.timeline.map((t: { type: string }) => t.type)).toContain('GRANTS_REVOKED');
  });

  it('restores the grants after a second person approves, never with one', async () => {
    const request = await operatorCall(stack, ALICE, { action: 'restore-grants', incidentId, reason: 'ACL corrected, audience verified' });
    expect(request.status).toBe(200);
    const requestId = request.body.result.request.requestId;
    expect((await operatorCall(stack, ALICE, { action: 'approve-restore-grants', requestId })).status).toBe(403);
    await stack.idle();
    expect(await grants.canAccess('group:all-staff', 'transcripts', 'READ')).toBe(false);

    const approved = await operatorCall(stack, BOB, { action: 'approve-restore-grants', requestId });
    expect(approved.body).toMatchObject({ ok: true, result: { queued: true, request: { status: 'APPROVED', approvedBy: BOB } } });
    await stack.idle();
    expect(await grants.canAccess('group:all-staff', 'transcripts', 'READ')).toBe(true);
    const restored = stack.bus.journal.find((j) => j.event['detail-type'] === 'Grants Restored');
    expect(restored?.event.detail).toMatchObject({ incidentId, restored: 34, stillHeld: 0, skipped: 0 });
    // The bucket had no policy before: the one the quarantine created is gone again.
    expect(stack.bucketPolicies!.policy('mci-transcripts')).toBeUndefined();
  });

  it('keeps grant work that does not parse in the DLQ with the reason, without retrying it', async () => {
    const sqs = new SQSClient({});
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: stack.queues.GrantRevocationWork,
        MessageBody: JSON.stringify({ type: 'revoke', programId: 'mci' }),
      }),
    );
    await stack.idle();
    const dead = await drain(stack, 'GrantRevocationWorkDlq');
    expect(dead).toHaveLength(1);
    expect(dead[0]?.MessageAttributes?.ErrorMessage?.StringValue).toMatch(/incidentId/);
  });
});
