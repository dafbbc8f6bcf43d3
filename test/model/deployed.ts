import { synthesizeTemplates } from '#local/synth.ts';
import { describeSystem, refKey, type LocalSystem } from '#local/system.ts';
import type { DeploymentConfig } from '#infra/config.ts';
import type { DeliverySemantics } from './sim.ts';

/**
 * What the deployed system promises about delivery and who can write what, read from the very
 * templates `cdk deploy` would deploy, so that the model test simulates AWS as configured rather
 * than as hoped:
 * - how an `Anomaly Detected` event reaches the trigger (Lambda's asynchronous invocation retries
 *   twice, a minute and two minutes apart; an SQS queue redelivers after its visibility timeout
 *   until its redrive's maxReceiveCount);
 * - the queues behind grant work and notice sending;
 * - whether a detector (anyone allowed to put events on the detectors' bus) can put a
 *   `Kill Switch Engaged` where its consumers listen;
 * - whether any EventBridge rule of the account may send to the grant-work queue.
 */
export interface DeployedFacts {
  anomalyDelivery: DeliverySemantics;
  grantWork: DeliverySemantics;
  planWork: DeliverySemantics;
  sendWork: DeliverySemantics;
  /** Detectors can reach the consumers of killswitch's own domain events. */
  detectorsCanPublishDomainEvents: boolean;
  /** Any rule in the account (not only killswitch's own) can enqueue grant work. */
  anyRuleCanEnqueueGrantWork: boolean;
  /** The sender's stale-claim window, from its environment (default when absent). */
  noticeStaleClaimMs: number | undefined;
  noticeMaxAttempts: number;
}

const LAMBDA_ASYNC_RETRY_DELAYS_MS = [60_000, 120_000];

const detailTypes = (pattern: unknown): string[] => {
  const p = pattern as { 'detail-type'?: unknown } | undefined;
  return Array.isArray(p?.['detail-type']) ? (p['detail-type'] as string[]) : [];
};

export function deployedFacts(config: DeploymentConfig): DeployedFacts {
  const templates = synthesizeTemplates(config);
  const system = describeSystem(templates);
  const resources = Object.entries(templates).flatMap(([stack, t]) => Object.entries(t.Resources).map(([id, r]) => ({ stack, id, r })));

  const queueSemantics = (stack: string, logicalId: string): DeliverySemantics => {
    const q = system.queues.find((x) => x.ref.stack === stack && x.ref.logicalId === logicalId);
    if (!q) throw new Error(`model: no queue ${logicalId}`);
    return { kind: 'sqs', visibilityMs: q.visibilityTimeoutS * 1000, maxReceives: q.redrive?.maxReceiveCount ?? 1_000_000 };
  };
  const functionAsync = (stack: string, logicalId: string): DeliverySemantics => {
    const config = resources.find(
      (x) =>
        x.stack === stack &&
        x.r.Type === 'AWS::Lambda::EventInvokeConfig' &&
        JSON.stringify(x.r.Properties?.FunctionName).includes(logicalId),
    );
    const retries = Number(config?.r.Properties?.MaximumRetryAttempts ?? 2);
    return { kind: 'async', retryDelaysMs: LAMBDA_ASYNC_RETRY_DELAYS_MS.slice(0, retries) };
  };
  /** Through a rule target to the function that finally runs: a queue's event source, or the function itself. */
  const deliveryTo = (rule: LocalSystem['rules'][number]): DeliverySemantics => {
    const target = rule.targets[0];
    if (!target) throw new Error(`model: rule ${rule.ref.logicalId} has no target`);
    return target.kind === 'queue'
      ? queueSemantics(target.target.stack, target.target.logicalId)
      : functionAsync(target.target.stack, target.target.logicalId);
  };
  const ruleFor = (detailType: string) => system.rules.filter((r) => detailTypes(r.pattern).includes(detailType));
  const sourceOf = (entry: string) => {
    const fn = system.functions.find((f) => f.entry === entry);
    const mapping = fn && system.eventSources.find((e) => refKey(e.function) === refKey(fn.ref));
    if (!fn || !mapping) throw new Error(`model: ${entry} has no queue event source`);
    return { fn, semantics: queueSemantics(mapping.queue.stack, mapping.queue.logicalId), queue: mapping.queue };
  };

  const anomalyRule = ruleFor('Anomaly Detected')[0];
  if (!anomalyRule) throw new Error('model: no rule for Anomaly Detected');
  const engagedRules = ruleFor('Kill Switch Engaged');
  const sameBus = engagedRules.some((r) => JSON.stringify(r.bus) === JSON.stringify(anomalyRule.bus));
  const denyingBusPolicy = resources.some(
    (x) =>
      x.r.Type === 'AWS::Events::EventBusPolicy' &&
      JSON.stringify(x.r.Properties?.Statement ?? x.r.Properties?.Policy ?? '').includes('"Deny"') &&
      JSON.stringify(x.r.Properties).includes('events:PutEvents'),
  );

  const grantWork = sourceOf('functions/revoke-grants/handler.ts');
  const queuePolicies = resources.filter(
    (x) => x.r.Type === 'AWS::SQS::QueuePolicy' && JSON.stringify(x.r.Properties?.Queues).includes(grantWork.queue.logicalId),
  );
  const openToRules = queuePolicies.some((x) =>
    ((x.r.Properties?.PolicyDocument as { Statement?: Record<string, unknown>[] } | undefined)?.Statement ?? []).some(
      (s) =>
        s.Effect === 'Allow' &&
        JSON.stringify(s.Principal).includes('events.amazonaws.com') &&
        !JSON.stringify(s.Condition ?? {}).includes('aws:SourceArn'),
    ),
  );
  const sender = sourceOf('functions/send-notices/handler.ts');
  const stale = sender.fn.environment.NOTICE_STALE_CLAIM_MS;

  return {
    anomalyDelivery: deliveryTo(anomalyRule),
    grantWork: grantWork.semantics,
    planWork: sourceOf('functions/plan-notices/handler.ts').semantics,
    sendWork: sender.semantics,
    detectorsCanPublishDomainEvents: sameBus || !denyingBusPolicy,
    anyRuleCanEnqueueGrantWork: openToRules,
    noticeStaleClaimMs: stale === undefined ? undefined : Number(stale),
    noticeMaxAttempts: Number(sender.fn.environment.NOTICE_MAX_ATTEMPTS ?? 5),
  };
}
