import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { startLocalStack, type LocalStack } from '#local/stack.ts';
import { seedPrograms } from '#local/seed.ts';
import { sampleFindingEvent } from '#local/samples.ts';
import { dynamoDocumentClient } from '#shared/adapters/aws/clients.ts';
import { ProgramStateStore } from '#shared/adapters/dynamodb/program-state-store.ts';
import { FindingLog, IncidentLedger, LedgerTable } from '#shared/adapters/dynamodb/ledger/index.ts';
import { anomalyIdOf } from '#shared/findings/normalise.ts';
import type { FindingSource } from '#shared/schemas/findings.ts';
import { asSqsEvent, drain } from '../support/local.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('Local stack: AWS findings on the default bus, through the synthesized rules', () => {
  let stack: LocalStack;
  let state: ProgramStateStore;
  let incidents: IncidentLedger;
  let findingLog: FindingLog;
  let n = 0;
  const finding = (source: FindingSource): Json => sampleFindingEvent(source, { at: new Date(), suffix: `t${++n}` }) as unknown as Json;
  const emit = async (event: Json) => {
    const id = stack.bus.emitServiceEvent(event as never);
    await stack.idle();
    return stack.bus.journal.find((j) => j.event.id === id)!;
  };
  const findingIdOf = (event: Json): string => event.detail.id ?? event.detail.findings[0].Id;
  const incidentOf = async (source: FindingSource, event: Json) => {
    const invocation = stack.functions.log.filter((l) => l.function === 'finding-trigger').at(-1);
    expect(invocation?.ok).toBe(true);
    const anomalyId = anomalyIdOf(source, findingIdOf(event));
    const listed = await incidents.list('mci', 50);
    return listed.find((i) => i.anomalyId === anomalyId);
  };

  beforeAll(async () => {
    stack = await startLocalStack({ asyncRetryDelaysMs: [10, 20] });
    await seedPrograms(stack);
    const doc = dynamoDocumentClient();
    state = new ProgramStateStore(doc, stack.tables.programState);
    const ledger = new LedgerTable(doc, stack.tables.ledger);
    incidents = new IncidentLedger(ledger);
    findingLog = new FindingLog(ledger);
  });
  afterAll(() => stack?.stop());

  it('pauses the program on a HIGH Macie finding about mci-transcripts', async () => {
    const event = finding('macie');
    const routed = await emit(event);
    expect(routed.bus).toBe('default');
    expect(routed.rules).toEqual(['FindingTriggersMacieRule']);
    expect((await state.get('mci', '*'))?.state).toMatchObject({ status: 'PAUSED', trigger: 'ANOMALY' });
    expect(await incidentOf('macie', event)).toMatchObject({
      detector: 'aws.macie',
      action: 'PAUSED',
      severity: 'HIGH',
      kind: 'public-bucket',
      datasetIds: ['transcripts'],
    });
    expect(stack.bus.journal.some((j) => j.event['detail-type'] === 'Kill Switch Engaged')).toBe(true);
  });

  it('links GuardDuty and Security Hub findings to the open pause, with their datasets', async () => {
    const gd = finding('guardduty');
    expect((await emit(gd)).rules).toEqual(['FindingTriggersGuardDutyRule']);
    expect(await incidentOf('guardduty', gd)).toMatchObject({
      detector: 'aws.guardduty',
      action: 'LINKED',
      kind: 'exfiltration',
      datasetIds: ['keystrokes'],
    });
    const sh = finding('securityhub');
    expect((await emit(sh)).rules).toEqual(['FindingTriggersSecurityHubRule']);
    expect(await incidentOf('securityhub', sh)).toMatchObject({ detector: 'aws.securityhub', action: 'LINKED', datasetIds: ['mouse'] });
  });

  it('routes nothing for low severity or irrelevant findings', async () => {
    const low = finding('macie');
    low.detail.severity = { score: 1, description: 'Low' };
    const ec2 = finding('guardduty');
    ec2.detail.type = 'CryptoCurrency:EC2/BitcoinTool.B!DNS';
    for (const event of [low, ec2]) expect((await emit(event)).rules).toEqual([]);
  });

  it("leaves this region's Security Hub copies of GuardDuty findings to GuardDuty's rule, and takes copies from other regions", async () => {
    const before = (await state.get('mci', '*'))?.state.version;
    const copy = finding('securityhub');
    copy.detail.findings[0].ProductArn = 'arn:aws:securityhub:eu-west-1::product/aws/guardduty';
    delete copy.detail.findings[0].ProductName;
    // By ProductArn (required in ASFF): the rule leaves it out, GuardDuty's own rule has the finding.
    expect((await emit(copy)).rules).toEqual([]);
    // Straight to the function (as the sweep would list it without the filter): the intake leaves it too.
    expect(await stack.functions.invoke('finding-trigger', asSqsEvent(copy))).toEqual({ batchItemFailures: [] });
    expect(await incidentOf('securityhub', copy)).toBeUndefined();
    expect((await state.get('mci', '*'))?.state.version).toBe(before);

    // Aggregated from another region: GuardDuty's events of that region never reach this bus, so Security Hub's copy is taken.
    const aggregated = finding('securityhub');
    aggregated.detail.findings[0].ProductArn = 'arn:aws:securityhub:eu-central-1::product/aws/guardduty';
    aggregated.detail.findings[0].Region = 'eu-central-1';
    delete aggregated.detail.findings[0].ProductName;
    expect((await emit(aggregated)).rules).toEqual(['FindingTriggersSecurityHubRule']);
    expect(await incidentOf('securityhub', aggregated)).toMatchObject({ detector: 'aws.securityhub', datasetIds: ['mouse'] });
  });

  it('records, without pausing, a MEDIUM or LOW finding that reaches the trigger: the program policy decides', async () => {
    const before = (await state.get('mci', '*'))?.state.version;
    const medium = finding('guardduty');
    medium.detail.severity = 5;
    const low = finding('macie');
    low.detail.severity = { score: 1, description: 'Low' };
    // Straight to the function (the rule would not route the LOW one): normaliser -> policy -> state.
    expect(await stack.functions.invoke('finding-trigger', asSqsEvent(medium, low))).toEqual({ batchItemFailures: [] });
    expect((await state.get('mci', '*'))?.state.version).toBe(before);
    const recorded = (await incidents.list('mci', 50)).filter(
      (i) => i.anomalyId === anomalyIdOf('guardduty', medium.detail.id) || i.anomalyId === anomalyIdOf('macie', low.detail.id),
    );
    expect(recorded.map((i) => [i.severity, i.action]).sort()).toEqual([
      ['LOW', 'RECORDED'],
      ['MEDIUM', 'RECORDED'],
    ]);
  });

  it('records a finding about a bucket no program owns, and changes nothing', async () => {
    const before = (await state.get('mci', '*'))?.state.version;
    const event = finding('macie');
    event.detail.resourcesAffected.s3Bucket = { name: 'marketing-assets', arn: 'arn:aws:s3:::marketing-assets' };
    expect((await emit(event)).rules).toEqual(['FindingTriggersMacieRule']);
    expect(await findingLog.getUnmapped('macie', event.detail.id)).toMatchObject({
      outcome: 'UNMAPPED',
      buckets: ['marketing-assets'],
      severity: 'HIGH',
    });
    expect((await state.get('mci', '*'))?.state.version).toBe(before);
  });

  it('keeps a malformed finding in the rejected-findings queue with its validation error, without failing the invocation', async () => {
    const event = finding('macie');
    event.detail.createdAt = 'the day before yesterday';
    await emit(event);
    expect(stack.functions.log.filter((l) => l.function === 'finding-trigger').at(-1)?.ok).toBe(true);
    const rejected = await drain(stack, 'FindingTriggersRejectedFindings');
    expect(rejected).toHaveLength(1);
    expect(JSON.parse(rejected[0]!.Body!)).toMatchObject({
      via: 'event',
      source: 'macie',
      findingId: event.detail.id,
      issues: [{ path: 'detail.createdAt' }],
    });
  });

  it('refuses "aws." sources on PutEvents, as EventBridge does', async () => {
    const out = await new EventBridgeClient({}).send(
      new PutEventsCommand({
        Entries: [{ Source: 'aws.macie', DetailType: 'Macie Finding', Detail: JSON.stringify(finding('macie').detail) }],
      }),
    );
    expect(out.FailedEntryCount).toBe(1);
    expect(out.Entries?.[0]).toMatchObject({ ErrorCode: 'NotAuthorizedForSourceException' });
  });

  it('lists the sweep and deadline-watch schedules without running them (only the state feed’s re-signing and the halt-by-expiry sweep run on their own)', () => {
    expect([...stack.schedules].sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { name: 'BreachDeadlinesSchedule', expression: 'rate(15 minutes)', function: 'deadline-watch' },
      { name: 'FindingTriggersSweepSchedule', expression: 'rate(15 minutes)', function: 'finding-sweep' },
      { name: 'HaltAcknowledgementsExpirySchedule', expression: 'rate(1 minute)', function: 'aggregate-acks' },
      { name: 'StateFeedResignSchedule', expression: 'rate(1 minute)', function: 'publish-state-feed' },
    ]);
    expect(stack.functions.log.some((l) => l.function === 'finding-sweep' || l.function === 'deadline-watch')).toBe(false);
  });
});
