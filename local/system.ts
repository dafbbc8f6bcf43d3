import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { ENTRY_METADATA } from '#infra/constructs/killswitch-function.ts';
import type { CfnTemplate } from './synth.ts';

/**
 * The deployable system as the local runtime needs it, read from the synthesized templates:
 * tables, topics, queues, buses, functions (with their handler module and environment),
 * rules (with their event patterns and targets), queue event sources and topic subscriptions.
 */
export interface LocalSystem {
  tables: { ref: ResourceRef; input: Omit<CreateTableCommandInput, 'TableName'> }[];
  topics: { ref: ResourceRef }[];
  queues: { ref: ResourceRef; visibilityTimeoutS: number; redrive?: { dlq: ResourceRef; maxReceiveCount: number } }[];
  buses: { ref: ResourceRef; name: string }[];
  functions: LocalFunctionSpec[];
  rules: LocalRuleSpec[];
  eventSources: { function: ResourceRef; queue: ResourceRef; batchSize: number; reportBatchItemFailures: boolean }[];
  subscriptions: { topic: ResourceRef; queue: ResourceRef; raw: boolean; filterPolicy?: unknown }[];
  /** S3 buckets (the state feed's origin). */
  buckets: { ref: ResourceRef; name?: string }[];
  /** Asymmetric KMS keys that sign (the state feed's). */
  signingKeys: { ref: ResourceRef }[];
  /** Secrets Manager secrets (the agents' enrolment secret). */
  secrets: { ref: ResourceRef }[];
  /** Resolves a CloudFormation value (Ref, GetAtt, ImportValue, Join…) once physical names are known. */
  resolver: (physical: PhysicalLookup) => (value: unknown, stack: string) => string;
}

export interface ResourceRef {
  stack: string;
  logicalId: string;
}
export interface LocalFunctionSpec {
  ref: ResourceRef;
  /** Short name: the handler's folder, or the file name when it is not `handler.ts`. */
  name: string;
  entry: string;
  environment: Record<string, unknown>;
  dlq?: ResourceRef;
  /** Invocable only through a Function URL with this auth type (AWS_IAM), never directly. */
  urlAuthType?: string;
}
export interface LocalRuleSpec {
  ref: ResourceRef;
  bus: unknown;
  pattern: unknown;
  /** A scheduled rule (`rate(…)`/`cron(…)`) instead of a pattern. */
  schedule?: string;
  /** A Lambda function or an SQS queue, by the resource its ARN points at. */
  targets: { target: ResourceRef; kind: 'function' | 'queue'; maxAttempts: number; maxAgeS: number; dlq?: unknown }[];
}

/** Physical values of resources, by kind, filled in by the local stack as it creates them. */
export interface PhysicalLookup {
  ref(r: ResourceRef): string | undefined;
  attr(r: ResourceRef, attribute: string): string | undefined;
  pseudo(name: string): string | undefined;
}

const refOf = (stack: string, value: unknown): ResourceRef => {
  const v = value as Record<string, unknown>;
  if (typeof v?.Ref === 'string') return { stack, logicalId: v.Ref };
  const getAtt = v?.['Fn::GetAtt'] as string[] | undefined;
  if (getAtt) return { stack, logicalId: getAtt[0]! };
  throw new Error(`local runtime: expected a Ref or GetAtt in ${stack}, got ${JSON.stringify(value)}`);
};

export function describeSystem(templates: Record<string, CfnTemplate>): LocalSystem {
  const system: Omit<LocalSystem, 'resolver'> = {
    tables: [],
    topics: [],
    queues: [],
    buses: [],
    functions: [],
    rules: [],
    eventSources: [],
    subscriptions: [],
    buckets: [],
    signingKeys: [],
    secrets: [],
  };
  const exports = new Map<string, { stack: string; value: unknown }>();
  const urls = new Map<string, string>();

  for (const [stack, template] of Object.entries(templates)) {
    for (const output of Object.values(template.Outputs ?? {})) {
      if (typeof output.Export?.Name === 'string') exports.set(output.Export.Name, { stack, value: output.Value });
    }
    for (const resource of Object.values(template.Resources)) {
      if (resource.Type === 'AWS::Lambda::Url') {
        const p = resource.Properties!;
        urls.set(`${stack}/${refOf(stack, p.TargetFunctionArn).logicalId}`, String(p.AuthType));
      }
    }
  }

  for (const [stack, template] of Object.entries(templates)) {
    for (const [logicalId, resource] of Object.entries(template.Resources)) {
      const p = resource.Properties ?? {};
      const ref = { stack, logicalId };
      switch (resource.Type) {
        case 'AWS::DynamoDB::Table':
          system.tables.push({
            ref,
            input: {
              AttributeDefinitions: p.AttributeDefinitions as never,
              KeySchema: p.KeySchema as never,
              GlobalSecondaryIndexes: p.GlobalSecondaryIndexes as never,
              BillingMode: 'PAY_PER_REQUEST',
            },
          });
          break;
        case 'AWS::SNS::Topic':
          system.topics.push({ ref });
          break;
        case 'AWS::S3::Bucket':
          system.buckets.push({ ref, ...(typeof p.BucketName === 'string' ? { name: p.BucketName } : {}) });
          break;
        case 'AWS::SecretsManager::Secret':
          system.secrets.push({ ref });
          break;
        case 'AWS::KMS::Key':
          if (p.KeyUsage === 'SIGN_VERIFY') system.signingKeys.push({ ref });
          break;
        case 'AWS::SQS::Queue': {
          const redrive = p.RedrivePolicy as { deadLetterTargetArn: unknown; maxReceiveCount: number } | undefined;
          system.queues.push({
            ref,
            visibilityTimeoutS: Number(p.VisibilityTimeout ?? 30),
            ...(redrive ? { redrive: { dlq: refOf(stack, redrive.deadLetterTargetArn), maxReceiveCount: redrive.maxReceiveCount } } : {}),
          });
          break;
        }
        case 'AWS::Events::EventBus':
          system.buses.push({ ref, name: String(p.Name) });
          break;
        case 'AWS::Lambda::Function': {
          const entry = resource.Metadata?.[ENTRY_METADATA];
          if (typeof entry !== 'string') break; // not one of ours (e.g. a CDK custom resource provider)
          const dlqTarget = (p.DeadLetterConfig as { TargetArn?: unknown } | undefined)?.TargetArn;
          const file = entry.split('/').pop()!.replace(/\.ts$/, '');
          system.functions.push({
            ref,
            name: file === 'handler' ? entry.split('/').slice(-2)[0]! : file,
            entry,
            environment: (p.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {},
            ...(dlqTarget ? { dlq: refOf(stack, dlqTarget) } : {}),
            ...(urls.has(`${stack}/${logicalId}`) ? { urlAuthType: urls.get(`${stack}/${logicalId}`) } : {}),
          });
          break;
        }
        case 'AWS::Events::Rule': {
          const targets = (p.Targets as Record<string, unknown>[] | undefined) ?? [];
          system.rules.push({
            ref,
            bus: p.EventBusName ?? 'default',
            pattern: p.EventPattern,
            ...(typeof p.ScheduleExpression === 'string' ? { schedule: p.ScheduleExpression } : {}),
            targets: targets.map((t) => {
              const retry = (t.RetryPolicy ?? {}) as { MaximumRetryAttempts?: number; MaximumEventAgeInSeconds?: number };
              const target = refOf(stack, t.Arn);
              return {
                target,
                kind: template.Resources[target.logicalId]?.Type === 'AWS::SQS::Queue' ? ('queue' as const) : ('function' as const),
                maxAttempts: 1 + (retry.MaximumRetryAttempts ?? 185),
                maxAgeS: retry.MaximumEventAgeInSeconds ?? 86_400,
                ...((t.DeadLetterConfig as { Arn?: unknown } | undefined)?.Arn
                  ? { dlq: (t.DeadLetterConfig as { Arn: unknown }).Arn }
                  : {}),
              };
            }),
          });
          break;
        }
        case 'AWS::Lambda::EventSourceMapping':
          system.eventSources.push({
            function: { stack, logicalId: (p.FunctionName as { Ref: string }).Ref },
            queue: refOf(stack, p.EventSourceArn),
            batchSize: Number(p.BatchSize ?? 10),
            reportBatchItemFailures: ((p.FunctionResponseTypes as string[] | undefined) ?? []).includes('ReportBatchItemFailures'),
          });
          break;
        case 'AWS::SNS::Subscription':
          if (p.Protocol === 'sqs') {
            system.subscriptions.push({
              topic: refOf(stack, p.TopicArn),
              queue: refOf(stack, p.Endpoint),
              raw: p.RawMessageDelivery === true,
              ...(p.FilterPolicy ? { filterPolicy: p.FilterPolicy } : {}),
            });
          }
          break;
      }
    }
  }

  const resolver =
    (physical: PhysicalLookup) =>
    (value: unknown, stack: string): string => {
      const resolve = (v: unknown, s: string): string => {
        if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
        const o = v as Record<string, unknown>;
        if (typeof o?.Ref === 'string') {
          const pseudo = o.Ref.startsWith('AWS::') ? physical.pseudo(o.Ref) : physical.ref({ stack: s, logicalId: o.Ref });
          if (pseudo !== undefined) return pseudo;
        } else if (Array.isArray(o?.['Fn::GetAtt'])) {
          const [logicalId, attribute] = o['Fn::GetAtt'] as [string, string];
          const got = physical.attr({ stack: s, logicalId }, attribute);
          if (got !== undefined) return got;
        } else if (o?.['Fn::ImportValue'] !== undefined) {
          const name = resolve(o['Fn::ImportValue'], s);
          const exported = exports.get(name);
          if (exported) return resolve(exported.value, exported.stack);
        } else if (Array.isArray(o?.['Fn::Join'])) {
          const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
          return parts.map((part) => resolve(part, s)).join(sep);
        }
        throw new Error(`local runtime cannot resolve ${JSON.stringify(v)} in ${s}`);
      };
      return resolve(value, stack);
    };

  return { ...system, resolver };
}

export const refKey = (r: ResourceRef): string => `${r.stack}/${r.logicalId}`;
