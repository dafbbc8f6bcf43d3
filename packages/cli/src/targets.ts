import type { LambdaClientConfig } from '@aws-sdk/client-lambda';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import type { OperatorEnvelope } from '../../../functions/operator/envelope.ts';
import type { OperatorResult } from '../../../shared/killswitch/operator.ts';
import type { OperatorAction, OperatorCommandInputFor } from '../../../shared/schemas/operator.ts';
import { fromCheckout } from './checkout.ts';
import { CliError, Exit } from './exit-codes.ts';

export type { OperatorAction } from '../../../shared/schemas/operator.ts';

/** One action's command as the CLI sends it: the operator schema's input, so a misspelt field does not compile. */
export type CommandFor<A extends OperatorAction> = OperatorCommandInputFor<A>;

/** What the operator answered to one action's command. */
export interface OperatorResponse<A extends OperatorAction> {
  /** The HTTP status (a direct invocation: 200, 400, or 500 when the function failed). */
  status: number;
  /**
   * The operator function's envelope, with the action's result; a failure naming the status when
   * something else answered (a Function URL refusing a signature itself, a function that crashed).
   */
  body: OperatorEnvelope<OperatorResult<A>>;
  /** The body as it came, which --json prints. */
  raw: unknown;
}

/** Where operator commands go: the Function URL in AWS, or the local stack. */
export interface OperatorTarget {
  readonly description: string;
  call<A extends OperatorAction>(command: CommandFor<A>): Promise<OperatorResponse<A>>;
  /** Direct invocation of the break-glass function (pause only). */
  breakGlass(command: CommandFor<'pause'>): Promise<OperatorResponse<'pause'>>;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;

/**
 * The body read as the operator function's envelope. Its result is the one the function declares
 * for the action (both are typed from OperatorResults), so it is taken as that; a body that is not
 * an envelope is a failure named by its HTTP status.
 */
function response<A extends OperatorAction>(status: number, raw: unknown): OperatorResponse<A> {
  const envelope = isObject(raw) && (raw.ok === true || (raw.ok === false && isObject(raw.error) && typeof raw.error.message === 'string'));
  const body: OperatorEnvelope<OperatorResult<A>> = envelope
    ? (raw as OperatorEnvelope<OperatorResult<A>>)
    : { ok: false, error: { kind: 'FAILURE', message: `HTTP ${status}` } };
  return { status, body, raw };
}

/** The default of --timeout: an operator must learn within seconds that the API is not answering. */
export const DEFAULT_TIMEOUT_SECONDS = 10;

const timedOut = (url: string, seconds: number) =>
  new CliError(
    `${url} did not answer within ${seconds} s (--timeout). If the operator API is down, pause through the break-glass function: killswitch pause --break-glass …`,
  );

async function post<A extends OperatorAction>(
  url: string,
  headers: Record<string, string>,
  body: string,
  timeoutSeconds = DEFAULT_TIMEOUT_SECONDS,
): Promise<OperatorResponse<A>> {
  // One deadline for the whole exchange: an endpoint that accepts and never answers, or answers
  // headers and then stalls the body, ends in the same clear error.
  const signal = AbortSignal.timeout(timeoutSeconds * 1000);
  const isTimeout = (error: unknown) => signal.aborted && (error as Error).name === 'TimeoutError';
  let answer: Response;
  let text: string;
  try {
    answer = await fetch(url, { method: 'POST', headers, body, signal });
    text = await answer.text();
  } catch (error) {
    if (isTimeout(error)) throw timedOut(url, timeoutSeconds);
    throw new CliError(`cannot reach ${url}: ${(error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new CliError(`${url} answered ${answer.status} with something that is not an operator response: ${text.slice(0, 200)}`);
  }
  return response(answer.status, raw);
}

/** A direct invocation (break-glass). The Lambda client is loaded only then: start-up stays small for every other command. */
async function invoke<A extends OperatorAction>(
  config: LambdaClientConfig,
  functionName: string,
  command: CommandFor<A>,
): Promise<OperatorResponse<A>> {
  const { InvokeCommand, LambdaClient } = await import('@aws-sdk/client-lambda');
  const out = await new LambdaClient(config).send(new InvokeCommand({ FunctionName: functionName, Payload: JSON.stringify(command) }));
  const raw: unknown = JSON.parse(Buffer.from(out.Payload ?? []).toString() || '{}');
  return response(out.FunctionError ? 500 : isObject(raw) && raw.ok ? 200 : 400, raw);
}

/** The region of a Function URL (`<id>.lambda-url.<region>.on.aws`), where its function runs. */
const regionOfUrl = (url: URL): string | undefined => /^[a-z0-9]+\.lambda-url\.([a-z0-9-]+)\.on\.aws$/.exec(url.hostname)?.[1];

/**
 * The operator Function URL, SigV4-signed with the standard AWS credential chain, with a caller proof
 * (a presigned sts:GetCallerIdentity for this body and this URL, signed with the same credentials):
 * the function acts on nothing but a pause without one.
 */
export function awsTarget(options: {
  url: string;
  region?: string;
  profile?: string;
  breakGlassFunction?: string;
  timeoutSeconds?: number;
}): OperatorTarget {
  const url = new URL(options.url);
  const region = regionOfUrl(url) ?? options.region;
  if (!region)
    throw new CliError(
      `no AWS region for ${url.host}: pass --region or set AWS_REGION (a Function URL, <id>.lambda-url.<region>.on.aws, names its own)`,
      Exit.BAD_INPUT,
    );
  // The standard chain (env, SSO, profiles, container and instance roles), from the named profile when there is one.
  // Loaded on the first call: `--help` and the local stack never need the credential chain.
  let chain: AwsCredentialIdentityProvider | undefined;
  const credentials: AwsCredentialIdentityProvider = async () => {
    chain ??= (await import('@aws-sdk/credential-provider-node')).defaultProvider(options.profile ? { profile: options.profile } : {});
    return chain();
  };
  const profile = options.profile ? { profile: options.profile } : {};
  // The signing code (~100 ms to load) only when a request is signed, not for --help or the local stack.
  const signing = Promise.all([
    import('@aws-crypto/sha256-js'),
    import('@smithy/signature-v4'),
    import('../../../shared/adapters/aws/caller-proof.ts'),
  ]).then(([{ Sha256 }, { SignatureV4 }, caller]) => ({
    signer: new SignatureV4({ service: 'lambda', region, credentials, sha256: Sha256 }),
    ...caller,
  }));
  signing.catch(() => {}); // reported by the call that awaits it
  return {
    description: `AWS ${url.host}`,
    async call(command) {
      const body = JSON.stringify(command);
      let signed;
      try {
        const { signer, signCallerProof, CALLER_PROOF_HEADER } = await signing;
        const proof = await signCallerProof({ credentials, region, audience: url.host, body });
        signed = await signer.sign({
          method: 'POST',
          protocol: url.protocol,
          hostname: url.hostname,
          path: url.pathname,
          headers: { host: url.host, 'content-type': 'application/json', [CALLER_PROOF_HEADER]: proof },
          body,
        });
      } catch (error) {
        throw new CliError(
          `no AWS credentials${options.profile ? ` for profile ${options.profile}` : ''}: ${(error as Error).message}. Configure a profile (--profile or AWS_PROFILE) or assume the operators role first.`,
        );
      }
      return post(options.url, signed.headers as Record<string, string>, body, options.timeoutSeconds);
    },
    async breakGlass(command) {
      if (!options.breakGlassFunction)
        throw new CliError(
          '--break-glass needs the function name (--break-glass-function or KILLSWITCH_BREAK_GLASS_FUNCTION)',
          Exit.BAD_INPUT,
        );
      return invoke({ region: options.region ?? region, ...profile }, options.breakGlassFunction, command);
    },
  };
}

/**
 * The local stack: the principal is named with --as, which only the local stack accepts, and proven
 * with credentials the local stack issues for it.
 */
export function localTarget(options: {
  operatorUrl: string;
  lambdaEndpoint: string;
  stsEndpoint: string;
  as: string;
  region: string;
  timeoutSeconds?: number;
}): OperatorTarget {
  return {
    description: `local stack ${options.operatorUrl} as ${options.as}`,
    async call(command) {
      const body = JSON.stringify(command);
      let identity: Record<string, string>;
      const { localOperatorHeaders } = await fromCheckout('--local', () => import('../../../local/sts.ts'));
      try {
        identity = await localOperatorHeaders({
          stsEndpoint: options.stsEndpoint,
          operatorUrl: options.operatorUrl,
          as: options.as,
          body,
          region: options.region,
        });
      } catch (error) {
        throw new CliError(`the local stack gave no credentials for ${options.as}: ${(error as Error).message}`);
      }
      return post(options.operatorUrl, { 'content-type': 'application/json', ...identity }, body, options.timeoutSeconds);
    },
    breakGlass: (command) =>
      invoke(
        { region: options.region, endpoint: options.lambdaEndpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } },
        'break-glass',
        command,
      ),
  };
}
