import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, type BuildOptions } from 'esbuild';
import { PROJECT_ROOT } from '#infra/constructs/killswitch-function.ts';
import { loadDeploymentConfig } from '#infra/config.ts';
import { round } from './support.ts';

const FUNCTIONS = [
  'functions/anomaly-trigger/handler.ts',
  'functions/operator/handler.ts',
  'functions/operator/break-glass.ts',
  'functions/revoke-grants/handler.ts',
  'functions/plan-notices/handler.ts',
  'functions/send-notices/handler.ts',
];

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

/** The options KillSwitchFunction gives esbuild (see infra/constructs/killswitch-function.ts). */
const BUNDLE: BuildOptions = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  minify: true,
  mainFields: ['module', 'main'],
  banner: { js: "import { createRequire as __ksCreateRequire } from 'node:module'; const require = __ksCreateRequire(import.meta.url);" },
  metafile: true,
  logLevel: 'silent',
};

/** Every variable any function reads at load, with valid values. */
function functionEnv(): NodeJS.ProcessEnv {
  const config = loadDeploymentConfig();
  const { maxAttempts: _, ...settings } = config.notices;
  return {
    ...process.env,
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
    PROGRAM_STATE_TABLE: 't',
    LEDGER_TABLE: 't',
    GRANTS_TABLE: 't',
    ACKS_TABLE: 't',
    DATA_SUBJECTS_TABLE: 't',
    EVENT_BUS_NAME: 'b',
    ALERT_TOPIC_ARN: 'arn:aws:sns:eu-west-1:111111111111:a',
    NOTICE_TOPIC_ARN: 'arn:aws:sns:eu-west-1:111111111111:n',
    KILLSWITCH_PROGRAMS: JSON.stringify(config.programs),
    NOTICE_SETTINGS: JSON.stringify(settings),
    KILLSWITCH_ACCOUNT: config.account,
    OPERATOR_ROLES: JSON.stringify([`${config.stackPrefix}Operators`]),
    ...Object.fromEntries(
      [
        'GRANT_WORK_QUEUE_URL',
        'GRANT_WORK_DLQ_URL',
        'NOTICE_PLAN_QUEUE_URL',
        'NOTICE_PLAN_DLQ_URL',
        'NOTICE_SEND_QUEUE_URL',
        'NOTICE_SEND_DLQ_URL',
        'TRIGGER_DLQ_URL',
      ].map((k) => [k, 'https://sqs.eu-west-1.amazonaws.com/111111111111/q']),
    ),
  };
}

/** Bundles `source` (resolved from the project's node_modules) as a function would be; returns the output file. */
async function bundleSource(dir: string, name: string, source: string): Promise<string> {
  const entry = join(dir, `${name}.mjs`);
  writeFileSync(entry, source);
  const outfile = join(dir, `${name}.out.mjs`);
  await build({ ...BUNDLE, entryPoints: [entry], outfile, absWorkingDir: PROJECT_ROOT, nodePaths: [join(PROJECT_ROOT, 'node_modules')] });
  return outfile;
}

/** Median module load time of a bundle in fresh Node processes. */
function loadMs(file: string, env: NodeJS.ProcessEnv, runs: number): number {
  const script = `const t = performance.now(); await import(${JSON.stringify(`file://${file}`)}); console.log(performance.now() - t);`;
  const times = Array.from({ length: runs }, () => {
    try {
      return Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { env, encoding: 'utf8', stdio: 'pipe' }).trim());
    } catch (err) {
      // A minified bundle's stack trace quotes a whole line of code; the error message is what helps.
      const stderr = String((err as { stderr?: unknown }).stderr ?? '');
      const message = stderr.split('\n').find((l) => /^[A-Za-z]\w*: /.test(l));
      throw new Error(`cold-start: loading ${file} failed: ${message ?? stderr.slice(-500)}`, { cause: err });
    }
  });
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
}

/**
 * cold-start: each function's production bundle — size (minified) and module load time in a fresh
 * Node process — against a baseline bundle that imports and constructs only the AWS SDK clients
 * the function uses. Target: neither ratio above 1.3. `floor`: the same clients with the libraries
 * every function carries (Powertools Logger and Metrics, Middy, zod) and no code of ours — what no
 * function can load faster than.
 */
export async function coldStart({ quick }: { quick: boolean }) {
  const dir = mkdtempSync(join(tmpdir(), 'ks-cold-'));
  const env = functionEnv();
  const runs = quick ? 3 : 9;
  try {
    const functions = [];
    for (const entry of quick ? FUNCTIONS.slice(0, 2) : FUNCTIONS) {
      const name = entry
        .replace(/^functions\//, '')
        .replace(/\.ts$/, '')
        .replace('/', '-');
      const outfile = join(dir, `${name}.mjs`);
      const result = await build({ ...BUNDLE, entryPoints: [join(PROJECT_ROOT, entry)], outfile });
      const clients = [
        ...new Set(
          Object.keys(result.metafile!.inputs)
            .map((i) => /node_modules\/@aws-sdk\/(client-[a-z0-9-]+)\//.exec(i)?.[1])
            .filter((c): c is string => !!c),
        ),
      ].sort();
      const imports = clients
        .map((c, i) => `import { ${clientClass(c)} as C${i} } from '@aws-sdk/${c}'; export const c${i} = new C${i}({});`)
        .join('\n');
      const baselineFile = await bundleSource(dir, `${name}.baseline`, `${imports}\nexport const handler = async () => ({});\n`);
      // The floor of any function on this stack: the same clients, with the libraries every function
      // must carry (Powertools Logger and Metrics in their Middy middleware, zod) and no code of ours.
      const floorFile = await bundleSource(dir, `${name}.floor`, `${imports}\n${FLOOR_HANDLER}`);
      const kb = (f: string) => statSync(f).size / 1024;
      const fnLoad = loadMs(outfile, env, runs);
      const baseLoad = loadMs(baselineFile, env, runs);
      const floorLoad = loadMs(floorFile, env, runs);
      functions.push({
        function: name,
        sdkClients: clients,
        sizeKb: { bundle: round(kb(outfile), 1), baseline: round(kb(baselineFile), 1), floor: round(kb(floorFile), 1) },
        loadMs: { bundle: round(fnLoad, 1), baseline: round(baseLoad, 1), floor: round(floorLoad, 1) },
        ratio: {
          size: round(kb(outfile) / kb(baselineFile)),
          load: round(fnLoad / baseLoad),
          floorLoad: round(floorLoad / baseLoad),
        },
      });
    }
    return { name: 'cold-start', runs, functions, target: { loadRatio: '<= 1.3' } };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
