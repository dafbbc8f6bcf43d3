import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { buildApp } from '#infra/app.ts';
import { loadDeploymentConfig } from '#infra/config.ts';
import { ENTRY_METADATA, PROJECT_ROOT } from '#infra/constructs/killswitch-function.ts';
import { FUNCTION_ESBUILD, sdkClientsOf } from './bundling.ts';
import { round } from './support.ts';

const CLIENT_CLASSES: Record<string, string> = {
  'client-dynamodb': 'DynamoDBClient',
  'client-eventbridge': 'EventBridgeClient',
  'client-sns': 'SNSClient',
  'client-sqs': 'SQSClient',
  'client-lambda': 'LambdaClient',
  'client-s3': 'S3Client',
  'client-kms': 'KMSClient',
  'client-secrets-manager': 'SecretsManagerClient',
  'client-sts': 'STSClient',
  'client-lakeformation': 'LakeFormationClient',
  'client-s3-control': 'S3ControlClient',
  'client-macie2': 'Macie2Client',
  'client-guardduty': 'GuardDutyClient',
  'client-securityhub': 'SecurityHubClient',
};

/** The client class a bundled SDK package exports; a package this table does not know fails with its name (not a build error). */
function clientClass(pkg: string): string {
  const name = CLIENT_CLASSES[pkg];
  if (!name)
    throw new Error(
      `cold-start: the bundle uses @aws-sdk/${pkg}, whose client class bench/cold-start.ts does not list (add it to CLIENT_CLASSES)`,
    );
  return name;
}

/** A handler with the libraries every function carries, used as killswitch uses them, and nothing else. */
const FLOOR_HANDLER = `
import middy from '@middy/core';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import * as z from 'zod';
const logger = new Logger({ serviceName: 'floor' });
const metrics = new Metrics({ namespace: 'floor', serviceName: 'floor' });
const Work = z.object({ id: z.string().min(1), at: z.iso.datetime() });
export const handler = middy(async (event) => Work.parse(event)).use(injectLambdaContext(logger)).use(logMetrics(metrics));
`;

interface TemplateResource {
  Type: string;
  Metadata?: Record<string, unknown>;
  Properties?: { Environment?: { Variables?: Record<string, unknown> } };
}

interface DeployedFunction {
  entry: string;
  /** The function's environment as deployed, each reference to another resource given a value of its kind. */
  environment: Record<string, string>;
}

const ACCOUNT = '111111111111';
const REGION = 'eu-west-1';

/** What a reference to a resource of `type` resolves to in a deployed stack (`attribute`: a GetAtt's, or a Ref). */
function referenceTo(type: string | undefined, attribute?: string): string {
  const id = 'stand-in';
  const of = attribute ? `${type}.${attribute}` : type;
  switch (of) {
    case 'AWS::SQS::Queue':
      return `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${id}`;
    case 'AWS::SQS::Queue.Arn':
      return `arn:aws:sqs:${REGION}:${ACCOUNT}:${id}`;
    case 'AWS::SNS::Topic':
      return `arn:aws:sns:${REGION}:${ACCOUNT}:${id}`;
    case 'AWS::IAM::Role.Arn':
      return `arn:aws:iam::${ACCOUNT}:role/${id}`;
    case 'AWS::KMS::Key.Arn':
      return `arn:aws:kms:${REGION}:${ACCOUNT}:key/00000000-0000-4000-8000-000000000000`;
    case 'AWS::SecretsManager::Secret':
      return `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${id}-AbCdEf`;
    // A name: what a Ref gives for these.
    case 'AWS::DynamoDB::Table':
    case 'AWS::S3::Bucket':
    case 'AWS::Events::EventBus':
      return id;
    default:
      throw new Error(`cold-start: no stand-in for a reference to ${of ?? 'an unknown resource'} (add it to referenceTo)`);
  }
}

/**
 * A value of the right shape for a variable the template sets from other resources (a Ref, a
 * GetAtt, an import from the other stack, a join of them): `types` maps every logical id of the
 * app to its resource type.
 */
function standIn(value: unknown, types: ReadonlyMap<string, string>): string {
  if (typeof value === 'string') return value;
  const fn = value as { Ref?: string; 'Fn::GetAtt'?: [string, string]; 'Fn::ImportValue'?: string; 'Fn::Join'?: [string, unknown[]] };
  if (fn['Fn::Join']) return fn['Fn::Join'][1].map((part) => standIn(part, types)).join(fn['Fn::Join'][0]);
  if (fn.Ref) return referenceTo(types.get(fn.Ref));
  if (fn['Fn::GetAtt']) return referenceTo(types.get(fn['Fn::GetAtt'][0]), fn['Fn::GetAtt'][1]);
  const exported = fn['Fn::ImportValue'];
  if (typeof exported === 'string') {
    // CDK names a cross-stack export ExportsOutputRef<logicalId><hash> or ExportsOutputFnGetAtt<logicalId><attribute><hash>.
    const [, kind = '', rest = ''] = /:ExportsOutput(Ref|FnGetAtt)(\w+)$/.exec(exported) ?? [];
    const logicalId = [...types.keys()].filter((id) => rest.startsWith(id)).sort((a, b) => b.length - a.length)[0];
    if (logicalId) {
      const attribute = kind === 'FnGetAtt' ? rest.slice(logicalId.length).replace(/[0-9A-F]{8}$/, '') : undefined;
      return referenceTo(types.get(logicalId), attribute);
    }
  }
  throw new Error(`cold-start: no stand-in for the template value ${JSON.stringify(value)}`);
}

/**
 * Every function of the sample deployment, read from the synthesized stacks (no bundling): its
 * entry and the environment Lambda would give it, so that each bundle loads with the variables
 * and NODE_OPTIONS it has in production, and no function of the stacks goes unmeasured.
 */
function deployedFunctions(): DeployedFunction[] {
  // aws-cdk-lib prints its deprecation notices on stdout, where only JSON may go.
  process.env.JSII_DEPRECATED = 'quiet';
  const built = buildApp(loadDeploymentConfig(), {
    outdir: mkdtempSync(join(tmpdir(), 'ks-cold-cdk-')),
    context: { 'aws:cdk:bundling-stacks': [] },
  });
  const stacks = built.app.synth().stacks.map((stack) => (stack.template as { Resources: Record<string, TemplateResource> }).Resources);
  const types = new Map(stacks.flatMap((resources) => Object.entries(resources).map(([id, r]) => [id, r.Type] as const)));
  const functions: DeployedFunction[] = [];
  for (const resources of stacks) {
    for (const resource of Object.values(resources)) {
      const entry = resource.Metadata?.[ENTRY_METADATA];
      if (resource.Type !== 'AWS::Lambda::Function' || typeof entry !== 'string') continue;
      const variables = resource.Properties?.Environment?.Variables ?? {};
      functions.push({ entry, environment: Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, standIn(v, types)])) });
    }
  }
  return functions;
}

/** What Lambda sets for every function, and what keeps the benchmark offline and quiet. */
const LAMBDA_ENV: NodeJS.ProcessEnv = {
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  POWERTOOLS_METRICS_DISABLED: 'true',
};

/** Bundles `source` (resolved from the project's node_modules) as a function would be; returns the output file. */
async function bundleSource(dir: string, name: string, source: string): Promise<string> {
  const entry = join(dir, `${name}.mjs`);
  writeFileSync(entry, source);
  const outfile = join(dir, `${name}.out.mjs`);
  await build({
    ...FUNCTION_ESBUILD,
    entryPoints: [entry],
    outfile,
    absWorkingDir: PROJECT_ROOT,
    nodePaths: [join(PROJECT_ROOT, 'node_modules')],
  });
  return outfile;
}

/** Module load time of a bundle in a fresh Node process. */
function loadOnce(file: string, env: NodeJS.ProcessEnv): number {
  const script = `const t = performance.now(); await import(${JSON.stringify(`file://${file}`)}); console.log(performance.now() - t);`;
  try {
    return Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { env, encoding: 'utf8', stdio: 'pipe' }).trim());
  } catch (err) {
    // A minified bundle's stack trace quotes a whole line of code; the error message is what helps.
    const stderr = String((err as { stderr?: unknown }).stderr ?? '');
    const message = stderr.split('\n').find((l) => /^[A-Za-z]\w*: /.test(l));
    throw new Error(`cold-start: loading ${file} failed: ${message ?? stderr.slice(-500)}`, { cause: err });
  }
}

/**
 * Module load times of each bundle in fresh Node processes, the bundles loaded in turn (function,
 * baseline, floor; then baseline, floor, function; …): this machine is shared, and a slow minute then slows all three
 * alike instead of the one whose runs it fell on. The median, and the fastest run (what is left
 * when nothing else wanted the CPU: noise only ever adds time).
 */
interface LoadTimes {
  median: number;
  best: number;
}

function interleavedLoadMs(files: readonly string[], env: NodeJS.ProcessEnv, runs: number): LoadTimes[] {
  const times = files.map(() => [] as number[]);
  for (let run = 0; run < runs; run++) {
    // Each round starts with the next bundle: none is always the first process after a pause.
    for (let k = 0; k < files.length; k++) {
      const i = (run + k) % files.length;
      times[i]!.push(loadOnce(files[i]!, env));
    }
  }
  return times.map((t) => {
    const sorted = t.sort((a, b) => a - b);
    return { median: sorted[Math.floor(sorted.length / 2)]!, best: sorted[0]! };
  });
}

/**
 * cold-start: each function's production bundle — size (minified, and its source map) and module
 * load time in a fresh Node process, built with the functions' own esbuild options and loaded with
 * the environment and NODE_OPTIONS the stacks give it — against a baseline bundle, built and loaded
 * the same way, that imports and constructs only the AWS SDK clients the function uses. Target: load
 * ratio at most 1.3. `floor`: the same clients with the libraries every function carries
 * (Powertools Logger and Metrics, Middy, zod) and no code of ours — what no function can load
 * faster than.
 */
export async function coldStart({ quick }: { quick: boolean }) {
  const dir = mkdtempSync(join(tmpdir(), 'ks-cold-'));
  const runs = quick ? 3 : 15;
  try {
    const deployed = deployedFunctions();
    const functions = [];
    for (const { entry, environment } of quick ? deployed.slice(0, 2) : deployed) {
      const name = entry
        .replace(/^functions\//, '')
        .replace(/\.ts$/, '')
        .replace('/', '-');
      // Only what Lambda gives a function: none of this process's variables (tsx's loader among them).
      const env = { PATH: process.env.PATH, HOME: process.env.HOME, ...LAMBDA_ENV, ...environment };
      const outfile = join(dir, `${name}.mjs`);
      const result = await build({ ...FUNCTION_ESBUILD, entryPoints: [join(PROJECT_ROOT, entry)], outfile });
      const clients = sdkClientsOf(result.metafile!);
      const imports = clients
        .map((c, i) => `import { ${clientClass(c)} as C${i} } from '@aws-sdk/${c}'; export const c${i} = new C${i}({});`)
        .join('\n');
      const baselineFile = await bundleSource(dir, `${name}.baseline`, `${imports}\nexport const handler = async () => ({});\n`);
      // The floor of any function on this stack: the same clients, with the libraries every function
      // must carry (Powertools Logger and Metrics in their Middy middleware, zod) and no code of ours.
      const floorFile = await bundleSource(dir, `${name}.floor`, `${imports}\n${FLOOR_HANDLER}`);
      const kb = (f: string) => statSync(f).size / 1024;
      const [fnLoad, baseLoad, floorLoad] = interleavedLoadMs([outfile, baselineFile, floorFile], env, runs) as [
        LoadTimes,
        LoadTimes,
        LoadTimes,
      ];
      functions.push({
        function: name,
        nodeOptions: environment.NODE_OPTIONS ?? '',
        sdkClients: clients,
        sizeKb: {
          bundle: round(kb(outfile), 1),
          sourceMap: FUNCTION_ESBUILD.sourcemap ? round(kb(`${outfile}.map`), 1) : 0,
          baseline: round(kb(baselineFile), 1),
          floor: round(kb(floorFile), 1),
        },
        loadMs: { bundle: round(fnLoad.median, 1), baseline: round(baseLoad.median, 1), floor: round(floorLoad.median, 1) },
        bestLoadMs: { bundle: round(fnLoad.best, 1), baseline: round(baseLoad.best, 1), floor: round(floorLoad.best, 1) },
        ratio: {
          size: round(kb(outfile) / kb(baselineFile)),
          load: round(fnLoad.median / baseLoad.median),
          floorLoad: round(floorLoad.median / baseLoad.median),
          bestLoad: round(fnLoad.best / baseLoad.best),
          bestFloorLoad: round(floorLoad.best / baseLoad.best),
        },
      });
    }
    return { name: 'cold-start', runs, functions, target: { loadRatio: '<= 1.3' } };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
