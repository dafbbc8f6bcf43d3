import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { mkdirSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { interceptLocalhostDns, startFauxqs, type FauxqsServer } from 'fauxqs';
import { loadDeploymentConfig, type DeploymentConfig } from '#infra/config.ts';
import { PROJECT_ROOT } from '#infra/constructs/killswitch-function.ts';
import { TABLE_CONSTRUCT_IDS } from '#infra/stacks/stateful-stack.ts';
import type { TableName } from '#shared/adapters/dynamodb/table-definitions.ts';
import { ensureTables, startDynalite, type EmbeddedDynamo } from './dynalite.ts';
import { LocalEventBus } from './event-bus.ts';
import { LocalFunctions, type LambdaHandler } from './functions.ts';
import { serve } from './http.ts';
import { QueuePoller } from './event-sources.ts';
import { functionUrl, lambdaInvokeApi } from './lambda-endpoint.ts';
import { LocalSts } from './sts.ts';
import { LocalBucketPolicies } from './bucket-policies.ts';
import { LocalKms } from './kms.ts';
import { startLocalFeedCdn, type LocalFeedCdnServer } from './feed-cdn.ts';
import { LocalSecrets } from './secrets.ts';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { synthesizeTemplates } from './synth.ts';
import { describeSystem, refKey, type LocalSystem, type PhysicalLookup, type ResourceRef } from './system.ts';

export interface LocalStackOptions {
  /** @default the sample configuration (config/killswitch.sample.json) */
  config?: DeploymentConfig;
  /** Keep DynamoDB data on disk here (LevelDB); in memory when omitted. */
  dataDir?: string;
  /** Fixed ports; free ports when omitted. */
  ports?: Partial<Record<'dynamodb' | 'sqs' | 'eventbridge' | 'lambda' | 'url' | 'sts', number>>;
  /** Delays between Lambda's asynchronous retries. @default [200, 400] */
  asyncRetryDelaysMs?: number[];
  /**
   * Visibility timeout of every local queue, in seconds: how soon a failed message is retried.
   * AWS uses the template's (minutes); locally time is scaled down like the retry delays. @default 1
   */
  visibilityTimeoutS?: number;
  /**
   * Endpoints of services the embedded emulators lack, such as moto in server mode: S3 (bucket
   * policies; else the local stand-in), Lake Formation, S3 Control (Access Grants). A configuration
   * that maps a dataset to Lake Formation or Access Grants needs theirs.
   */
  endpoints?: Partial<Record<'s3' | 'lakeformation' | 's3control', string>>;
}

export interface LocalStack {
  config: DeploymentConfig;
  endpoints: {
    dynamodb: string;
    sns: string;
    sqs: string;
    eventbridge: string;
    lambda: string;
    operatorUrl: string;
    sts: string;
    /** Where bucket policies are kept: the local stand-in, or the endpoint given. */
    s3: string;
    /** The signed state feed, as agents read it (the local stand-in for CloudFront): `feedUrl` of AgentGate. */
    stateFeed: string;
    kms: string;
    /** The halt acknowledgement endpoint (the intake's Function URL, no IAM). */
    ackUrl: string;
    secretsmanager: string;
  };
  /** The agents' enrolment master secret (what the platform team's device management derives each agent's secret from). */
  agentEnrolmentSecret: string;
  /** Its ARN on the local Secrets Manager (`agents enrol --local` reads it there). */
  agentEnrolmentSecretArn: string;
  /** The state feed's local CDN (origin requests, requests). */
  feedCdn: LocalFeedCdnServer;
  /** The local bucket-policy stand-in (undefined when options.endpoints.s3 was given). */
  bucketPolicies: LocalBucketPolicies | undefined;
  /** The environment any AWS SDK client needs to talk to this stack. */
  clientEnv: Record<string, string>;
  tables: Record<TableName, string>;
  /** Physical ids by logical id without its hash: topic ARNs, queue URLs. */
  topics: Record<string, string>;
  queues: Record<string, string>;
  /** The detectors' bus (`Anomaly Detected` goes here). */
  busName: string;
  /** killswitch's own events (in AWS only its functions may publish here; locally the bus policy is not enforced, the consumers' ledger checks are). */
  domainBusName: string;
  /** Scheduled rules: listed; only the state feed's re-signing runs by itself (invoke the others through `functions`). */
  schedules: LocalSchedule[];
  functions: LocalFunctions;
  bus: LocalEventBus;
  fauxqs: FauxqsServer;
  /** Resolves when the bus, the async invocations and the queue pollers are quiet. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

export interface LocalSchedule {
  name: string;
  expression: string;
  function: string | undefined;
}

let running = false;
/** The local stand-in for the messaging gateway's subscription to the notices topic. */
export const NOTICE_GATEWAY_QUEUE = 'NoticeGateway';
const LOCAL_KEY_ID = '00000000-0000-0000-0000-000000000000';
const stripHash = (logicalId: string): string => logicalId.replace(/[0-9A-F]{8}$/, '');

/**
 * Starts the whole system in this process: the CDK app is synthesized, and every table,
 * topic, queue, bus rule and function in its templates is created on embedded emulators
 * (dynalite, fauxqs, the local bus and Lambda endpoints). The functions' environment is
 * resolved from the templates, so they run with the same configuration as in AWS.
 *
 * One local stack per process: handlers read their environment once, at load.
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  if (running) throw new Error('a local stack is already running in this process');
  running = true;
  const config = options.config ?? loadDeploymentConfig();
  const { account, region } = config;
  const system = describeSystem(synthesizeTemplates(config));

  // fauxqs names queues http://sqs.<region>.localhost:<port>/…, and the SQS client sends to the
  // queue URL's host: resolve *.localhost to loopback in this process, as fauxqs recommends.
  const restoreDns = interceptLocalhostDns();
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  // dynalite on its own thread, so that the functions and the emulator do not share one event loop.
  const dynamo: EmbeddedDynamo = await startDynalite({ path: options.dataDir, port: options.ports?.dynamodb, thread: true });
  const fauxqs = await startFauxqs({ port: options.ports?.sqs ?? 0, logger: false, defaultRegion: region });
  const clientEnv: Record<string, string> = {
    AWS_REGION: region,
    AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'local',
    AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'local',
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_ENDPOINT_URL_SNS: fauxqs.address,
    // fauxqs names queues http://sqs.<region>.localhost:<port>/…; using the same host as the
    // endpoint keeps the SQS client from redirecting (and warning) on every call.
    AWS_ENDPOINT_URL_SQS: `http://sqs.${region}.localhost:${fauxqs.port}`,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  // The emulators' clients, the functions and their SDK clients read these, as in Lambda; stop()
  // puts back what was there.
  const restoreClientEnv = setEnvironment(clientEnv);

  const dynamoClient = new DynamoDBClient({ endpoint: dynamo.endpoint, region });
  const { physical, topics, queues, buckets, signingKeys, secrets } = await createResources(system, {
    fauxqs,
    dynamoClient,
    region,
    account,
    visibilityTimeoutS: options.visibilityTimeoutS ?? 1,
  });
  const busNames = ['default', ...system.buses.map((b) => b.name)];

  const lookup: PhysicalLookup = {
    ref: (r) => physical.get(refKey(r))?.ref ?? (isKey(system, r) ? LOCAL_KEY_ID : undefined),
    attr: (r, a) =>
      physical.get(refKey(r))?.attrs[a] ??
      (isKey(system, r) && a === 'Arn' ? `arn:aws:kms:${region}:${account}:key/${LOCAL_KEY_ID}` : undefined) ??
      // A function's role, named in its own environment (the quarantine's exemption): no IAM locally, its ARN as AWS would form it.
      (a === 'Arn' && /Role[0-9A-F]{8}$/.test(r.logicalId) ? `arn:aws:iam::${account}:role/${stripHash(r.logicalId)}` : undefined),
    pseudo: (name) =>
      ({ 'AWS::Region': region, 'AWS::AccountId': account, 'AWS::Partition': 'aws', 'AWS::URLSuffix': 'amazonaws.com' })[name],
  };
  const resolve = system.resolver(lookup);

  const functionEnv = functionEnvironment(system, resolve);

  const sqs = new SQSClient({ endpoint: clientEnv.AWS_ENDPOINT_URL_SQS, region });
  const functions = new LocalFunctions(sqs, options.asyncRetryDelaysMs);
  const bus = new LocalEventBus(account, region, busNames);
  const busServer = await serve(bus.handler(), options.ports?.eventbridge);
  const lambdaServer = await serve(lambdaInvokeApi(functions), options.ports?.lambda);
  // STS, for the operator function's caller proofs (GetCallerIdentity only).
  const sts = new LocalSts();
  const stsServer = await serve(sts.handler(), options.ports?.sts);
  clientEnv.AWS_ENDPOINT_URL_EVENTBRIDGE = busServer.endpoint;
  clientEnv.AWS_ENDPOINT_URL_LAMBDA = lambdaServer.endpoint;
  clientEnv.AWS_ENDPOINT_URL_STS = `${stsServer.endpoint}/`;
  // Bucket policies (the quarantine): the local stand-in, unless another endpoint is given; Lake
  // Formation and Access Grants only from an endpoint given (nothing local has them).
  const needs = (system: 'lakeFormation' | 's3AccessGrants') => config.datasets.some((d) => d.access[system] !== undefined);
  for (const [service, name] of [
    ['lakeformation', 'lakeFormation'],
    ['s3control', 's3AccessGrants'],
  ] as const)
    if (needs(name) && !options.endpoints?.[service])
      throw new Error(
        `local stack: the configuration maps a dataset to ${name}, which nothing local emulates: pass endpoints.${service} (moto in server mode, test/support/moto.ts)`,
      );
  const bucketPolicies = options.endpoints?.s3 ? undefined : new LocalBucketPolicies(account);
  const s3Server = bucketPolicies ? await serve(bucketPolicies.handler()) : undefined;
  for (const d of config.datasets) if (d.access.bucketPolicy) bucketPolicies?.createBucket(d.access.bucketPolicy.bucket);
  clientEnv.AWS_ENDPOINT_URL_S3 = options.endpoints?.s3 ?? s3Server!.endpoint;
  // The state feed: its bucket (on the S3 stand-in, or on the endpoint given), its signing keys on
  // the local KMS, and the local CDN in front of the bucket.
  const kms = new LocalKms();
  for (const arn of signingKeys) kms.createSigningKey(arn);
  const kmsServer = await serve(kms.handler());
  clientEnv.AWS_ENDPOINT_URL_KMS = kmsServer.endpoint;
  const localSecrets = new LocalSecrets();
  const secretValues = secrets.map((arn) => localSecrets.create(arn));
  const secretsServer = await serve(localSecrets.handler());
  clientEnv.AWS_ENDPOINT_URL_SECRETS_MANAGER = secretsServer.endpoint;
  for (const bucket of buckets) {
    if (bucketPolicies) bucketPolicies.createBucket(bucket);
    else {
      const s3 = new S3Client({
        endpoint: options.endpoints!.s3,
        region: 'us-east-1',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      });
      await s3.send(new CreateBucketCommand({ Bucket: bucket })).catch((error: unknown) => {
        if ((error as { name?: string }).name !== 'BucketAlreadyOwnedByYou') throw error;
      });
      s3.destroy();
    }
  }
  const feedBucket = buckets.find((b) => b.startsWith('statefeedorigin'));
  const feedCdn = await startLocalFeedCdn(`${clientEnv.AWS_ENDPOINT_URL_S3}/${feedBucket ?? 'no-state-feed-bucket'}`);
  if (options.endpoints?.lakeformation) clientEnv.AWS_ENDPOINT_URL_LAKEFORMATION = options.endpoints.lakeformation;
  if (options.endpoints?.s3control) clientEnv.AWS_ENDPOINT_URL_S3_CONTROL = options.endpoints.s3control;
  const restoreFunctionEnv = setEnvironment({ ...clientEnv, ...functionEnv });

  for (const f of system.functions) {
    const mod = (await import(pathToFileURL(join(PROJECT_ROOT, f.entry)).href)) as { handler: LambdaHandler };
    const dlqUrl = f.dlq ? physical.get(refKey(f.dlq))?.ref : undefined;
    functions.register(f, lookup.attr(f.ref, 'Arn')!, mod.handler, dlqUrl);
  }
  const schedules = wireRules(system, { bus, sqs, functions, physical, resolve });
  // The state feed's re-signing and the halt-by-expiry sweep run locally as in AWS (a stack left
  // running keeps its documents valid and confirms halts); the other schedules would call AWS APIs
  // nothing local has, and only run when invoked.
  const scheduleTimers = schedules
    .filter((s) => s.function === 'publish-state-feed' || s.function === 'aggregate-acks')
    .map((s) => {
      const everyMs = scheduleMs(s.expression);
      const fire = () => functions.invokeAsync(s.function!, scheduledEvent(s.name, account, region));
      fire();
      const timer = setInterval(fire, everyMs);
      timer.unref();
      return timer;
    });

  const pollers = startPollers(system, { sqs, functions, physical, region });
  const polledQueues = system.eventSources.map((s) => stripHash(s.queue.logicalId));

  const urlFunction = system.functions.find((f) => f.urlAuthType === 'AWS_IAM');
  const urlServer = urlFunction ? await serve(functionUrl(functions, urlFunction.name, account), options.ports?.url) : undefined;
  const openUrlFunction = system.functions.find((f) => f.urlAuthType === 'NONE');
  const ackServer = openUrlFunction ? await serve(functionUrl(functions, openUrlFunction.name, account, { auth: 'NONE' })) : undefined;

  const created = new Set(system.tables.map((t) => stripHash(t.ref.logicalId)));
  const missing = Object.values(TABLE_CONSTRUCT_IDS).filter((name) => !created.has(name));
  if (missing.length) throw new Error(`local runtime: the templates have no table for ${missing.join(', ')}`);
  const tables = { ...TABLE_CONSTRUCT_IDS } as Record<TableName, string>;

  return {
    config,
    endpoints: {
      dynamodb: dynamo.endpoint,
      sns: fauxqs.address,
      sqs: `http://sqs.${region}.localhost:${fauxqs.port}`,
      eventbridge: busServer.endpoint,
      lambda: lambdaServer.endpoint,
      operatorUrl: urlServer?.endpoint ?? '',
      sts: `${stsServer.endpoint}/`,
      s3: clientEnv.AWS_ENDPOINT_URL_S3,
      stateFeed: `${feedCdn.endpoint}/`,
      kms: kmsServer.endpoint,
      ackUrl: ackServer ? `${ackServer.endpoint}/` : '',
      secretsmanager: secretsServer.endpoint,
    },
    agentEnrolmentSecret: secretValues[0] ?? '',
    agentEnrolmentSecretArn: secrets[0] ?? '',
    feedCdn,
    bucketPolicies,
    clientEnv,
    tables,
    topics,
    queues,
    busName: system.buses.find((b) => b.ref.logicalId.startsWith('Bus'))?.name ?? 'default',
    domainBusName: system.buses.find((b) => b.ref.logicalId.startsWith('DomainBus'))?.name ?? 'default',
    schedules,
    functions,
    bus,
    fauxqs,
    idle: async () => {
      // Quiet twice in a row: nothing in flight, nothing waiting on a polled queue.
      for (let quiet = 0; quiet < 2;) {
        await new Promise((r) => setTimeout(r, 25));
        await functions.idle();
        const waiting = polledQueues.some((name) => {
          const q = fauxqs.inspectQueue(name);
          return !!q && q.messages.ready.length + q.messages.delayed.length + q.messages.inflight.length > 0;
        });
        quiet = waiting || pollers.some((p) => p.busy) ? 0 : quiet + 1;
      }
    },
    stop: async () => {
      for (const t of scheduleTimers) clearInterval(t);
      await Promise.all(pollers.map((p) => p.stop()));
      await functions.idle();
      await Promise.all([
        busServer.stop(),
        lambdaServer.stop(),
        stsServer.stop(),
        urlServer?.stop(),
        s3Server?.stop(),
        kmsServer.stop(),
        secretsServer.stop(),
        ackServer?.stop(),
        feedCdn.stop(),
        fauxqs.stop(),
        dynamo.stop(),
      ]);
      dynamoClient.destroy();
      sqs.destroy();
      restoreDns();
      restoreFunctionEnv();
      restoreClientEnv();
      running = false;
    },
  };
}

type Physical = Map<string, { ref: string; attrs: Record<string, string> }>;

/** Every table, topic, subscription and queue of the templates, on the emulators: physical names are the logical ids without their hash. */
async function createResources(
  system: LocalSystem,
  o: { fauxqs: FauxqsServer; dynamoClient: DynamoDBClient; region: string; account: string; visibilityTimeoutS: number },
): Promise<{
  physical: Physical;
  topics: Record<string, string>;
  queues: Record<string, string>;
  buckets: string[];
  signingKeys: string[];
  secrets: string[];
}> {
  const { region, account } = o;
  // Tables, topics, queues: physical names are the logical ids without their hash.
  const physical: Physical = new Map();
  const set = (r: ResourceRef, ref: string, attrs: Record<string, string> = {}) => physical.set(refKey(r), { ref, attrs });
  await ensureTables(
    o.dynamoClient,
    system.tables.map((t) => ({ ...t.input, TableName: stripHash(t.ref.logicalId) })),
  );
  for (const t of system.tables) {
    const name = stripHash(t.ref.logicalId);
    set(t.ref, name, { Arn: `arn:aws:dynamodb:${region}:${account}:table/${name}` });
  }
  const topics: Record<string, string> = {};
  for (const t of system.topics) {
    const name = stripHash(t.ref.logicalId);
    const { topicArn } = o.fauxqs.createTopic(name, { region });
    topics[name] = topicArn;
    set(t.ref, topicArn, { TopicArn: topicArn, TopicName: name });
  }
  const queues: Record<string, string> = {};
  // Dead-letter queues first, so redrive policies can name them.
  const ordered = [...system.queues].sort((a, b) => Number(Boolean(a.redrive)) - Number(Boolean(b.redrive)));
  for (const q of ordered) {
    const name = stripHash(q.ref.logicalId);
    const attributes: Record<string, string> = { VisibilityTimeout: String(Math.min(q.visibilityTimeoutS, o.visibilityTimeoutS)) };
    if (q.redrive) {
      const dlq = physical.get(refKey(q.redrive.dlq));
      attributes.RedrivePolicy = JSON.stringify({ deadLetterTargetArn: dlq?.attrs.Arn, maxReceiveCount: q.redrive.maxReceiveCount });
    }
    const created = o.fauxqs.createQueue(name, { region, attributes });
    queues[name] = created.queueUrl;
    set(q.ref, created.queueUrl, { Arn: created.queueArn, QueueUrl: created.queueUrl, QueueName: name });
  }
  for (const s of system.subscriptions) {
    o.fauxqs.subscribe({
      topic: stripHash(s.topic.logicalId),
      queue: stripHash(s.queue.logicalId),
      region,
      attributes: { RawMessageDelivery: String(s.raw), ...(s.filterPolicy ? { FilterPolicy: JSON.stringify(s.filterPolicy) } : {}) },
    });
  }
  // The company's messaging gateway is not part of killswitch: locally a queue stands in for it,
  // subscribed to the notices topic with raw delivery, so the demo and tests see what it would get.
  if (topics.ExposureNotices) {
    const gateway = o.fauxqs.createQueue(NOTICE_GATEWAY_QUEUE, { region });
    queues[NOTICE_GATEWAY_QUEUE] = gateway.queueUrl;
    o.fauxqs.subscribe({ topic: 'ExposureNotices', queue: NOTICE_GATEWAY_QUEUE, region, attributes: { RawMessageDelivery: 'true' } });
  }
  for (const b of system.buses) set(b.ref, b.name, { Arn: `arn:aws:events:${region}:${account}:event-bus/${b.name}`, Name: b.name });
  for (const f of system.functions) set(f.ref, f.name, { Arn: `arn:aws:lambda:${region}:${account}:function:${f.name}` });
  // Buckets get the name the template gives them, else their logical id's (lower case, as S3
  // wants); signing keys get a key id of their own.
  const buckets = system.buckets.map((b) => {
    const name = b.name ?? stripHash(b.ref.logicalId).toLowerCase();
    set(b.ref, name, {
      Arn: `arn:aws:s3:::${name}`,
      DomainName: `${name}.s3.amazonaws.com`,
      RegionalDomainName: `${name}.s3.${region}.amazonaws.com`,
    });
    return name;
  });
  const signingKeys = system.signingKeys.map((k, i) => {
    const id = `00000000-0000-0000-0000-${String(i + 1).padStart(12, '0')}`;
    const arn = `arn:aws:kms:${region}:${account}:key/${id}`;
    set(k.ref, id, { Arn: arn, KeyId: id });
    return arn;
  });
  const secrets = system.secrets.map((sec) => {
    const arn = `arn:aws:secretsmanager:${region}:${account}:secret:${stripHash(sec.ref.logicalId)}-local`;
    set(sec.ref, arn, { Arn: arn });
    return arn;
  });
  return { physical, topics, queues, buckets, signingKeys, secrets };
}

/**
 * The functions' environment, resolved from the templates. All functions share this process's
 * environment, so a variable must mean the same thing to every function that has it.
 */
function functionEnvironment(system: LocalSystem, resolve: ReturnType<LocalSystem['resolver']>): Record<string, string> {
  const functionEnv: Record<string, string> = {};
  for (const f of system.functions) {
    for (const [key, raw] of Object.entries(f.environment)) {
      if (key === 'NODE_OPTIONS') continue;
      const value = resolve(raw, f.ref.stack);
      if (functionEnv[key] !== undefined && functionEnv[key] !== value) {
        throw new Error(`local runtime: ${key} differs between functions (${functionEnv[key]} vs ${value})`);
      }
      functionEnv[key] = value;
    }
  }
  return functionEnv;
}

/** The bus rules of the templates on the local bus, to their queues and functions; scheduled rules are listed, not run. */
function wireRules(
  system: LocalSystem,
  {
    bus,
    sqs,
    functions,
    physical,
    resolve,
  }: { bus: LocalEventBus; sqs: SQSClient; functions: LocalFunctions; physical: Physical; resolve: ReturnType<LocalSystem['resolver']> },
): LocalSchedule[] {
  const schedules: LocalSchedule[] = [];
  for (const rule of system.rules) {
    if (rule.schedule !== undefined) {
      // Scheduled rules do not run by themselves locally (the finding sweep would call the real
      // Macie, GuardDuty and Security Hub APIs); tests and tools invoke their functions directly.
      const fn = system.functions.find((f) => rule.targets.some((t) => refKey(t.target) === refKey(f.ref)));
      schedules.push({ name: stripHash(rule.ref.logicalId), expression: rule.schedule, function: fn?.name });
      continue;
    }
    const busName = resolve(rule.bus, rule.ref.stack).split('/').pop()!;
    for (const target of rule.targets) {
      const name = stripHash(rule.ref.logicalId);
      if (target.kind === 'queue') {
        const queueUrl = physical.get(refKey(target.target))?.ref;
        if (!queueUrl) throw new Error(`local runtime: rule ${name} targets an unknown queue`);
        const dlqUrl = target.dlq
          ? physical.get(refKey({ stack: rule.ref.stack, logicalId: (target.dlq as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]! }))?.ref
          : undefined;
        bus.addRule({ name, bus: busName, pattern: rule.pattern, deliver: (event) => deliverToQueue(sqs, event, queueUrl, dlqUrl, name) });
      } else {
        const fn = system.functions.find((f) => refKey(f.ref) === refKey(target.target));
        if (!fn) throw new Error(`local runtime: rule ${name} targets an unknown function`);
        bus.addRule({ name, bus: busName, pattern: rule.pattern, deliver: (event) => functions.invokeAsync(fn.name, event) });
      }
    }
  }
  return schedules;
}

/** One poller per event source mapping, as Lambda's: long polls, batches, partial batch responses. */
function startPollers(
  system: LocalSystem,
  { sqs, functions, physical, region }: { sqs: SQSClient; functions: LocalFunctions; physical: Physical; region: string },
): QueuePoller[] {
  const pollers = system.eventSources.map((source) => {
    const fn = system.functions.find((f) => refKey(f.ref) === refKey(source.function));
    const queue = physical.get(refKey(source.queue));
    if (!fn || !queue) throw new Error('local runtime: an event source mapping names an unknown function or queue');
    return new QueuePoller(sqs, functions, {
      functionName: fn.name,
      queueUrl: queue.ref,
      queueArn: queue.attrs.Arn!,
      batchSize: source.batchSize,
      reportBatchItemFailures: source.reportBatchItemFailures,
      region,
    });
  });
  for (const poller of pollers) poller.start();
  return pollers;
}

/** Sets `vars` in this process's environment; the function returned puts back what was there before. */
function setEnvironment(vars: Record<string, string>): () => void {
  const before = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  return () => {
    for (const [k, v] of Object.entries(before)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

/**
 * EventBridge → SQS: retried with backoff (EventBridge retries for up to 24 hours; locally
 * three times), then sent to the rule target's DLQ with the error, as EventBridge does.
 */
async function deliverToQueue(
  sqs: SQSClient,
  event: { id: string },
  queueUrl: string,
  dlqUrl: string | undefined,
  rule: string,
): Promise<void> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    if (attempt) await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
    try {
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(event) }));
      return;
    } catch (error) {
      lastError = error;
    }
  }
  if (!dlqUrl) {
    console.error(`local bus: ${rule} could not deliver ${event.id}: ${String(lastError)}`);
    return;
  }
  await sqs
    .send(
      new SendMessageCommand({
        QueueUrl: dlqUrl,
        MessageBody: JSON.stringify(event),
        MessageAttributes: {
          RULE_ARN: { DataType: 'String', StringValue: rule },
          ERROR_MESSAGE: { DataType: 'String', StringValue: String((lastError as Error)?.message ?? lastError).slice(0, 1000) },
        },
      }),
    )
    .catch((error: unknown) => console.error(`local bus: ${rule} could not dead-letter ${event.id}: ${String(error)}`));
}

/** `rate(N minute|minutes|hour|hours)` in milliseconds (the only schedule expressions killswitch uses). */
function scheduleMs(expression: string): number {
  const m = /^rate\((\d+) (minute|minutes|hour|hours)\)$/.exec(expression);
  if (!m) throw new Error(`local runtime: unsupported schedule ${expression}`);
  return Number(m[1]) * (m[2]!.startsWith('hour') ? 3_600_000 : 60_000);
}

/** The event EventBridge Scheduler's rule sends (a `Scheduled Event` from `aws.events`). */
function scheduledEvent(rule: string, account: string, region: string) {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account,
    time: new Date().toISOString(),
    region,
    resources: [`arn:aws:events:${region}:${account}:rule/${rule}`],
    detail: {},
  };
}

function isKey(system: LocalSystem, r: ResourceRef): boolean {
  return r.logicalId.startsWith('DataKey') && !system.tables.some((t) => refKey(t.ref) === refKey(r));
}
