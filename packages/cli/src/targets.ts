import { Sha256 } from '@aws-crypto/sha256-js';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { CALLER_PROOF_HEADER, signCallerProof } from '../../../shared/adapters/aws/caller-proof.ts';
import { fromCheckout } from './checkout.ts';
import { CliError, Exit } from './exit-codes.ts';

export interface OperatorResponse {
  status: number;
  body: { ok: boolean; result?: unknown; error?: { kind: string; message: string; issues?: { path: string; message: string }[] } };
}

/** Where operator commands go: the Function URL in AWS, or the local stack. */
export interface OperatorTarget {
  readonly description: string;
  call(command: Record<string, unknown>): Promise<OperatorResponse>;
  /** Direct invocation of the break-glass function (pause only). */
  breakGlass(command: Record<string, unknown>): Promise<OperatorResponse>;
}

async function post(url: string, headers: Record<string, string>, body: string): Promise<OperatorResponse> {
  let response: Response;
  try {
    response = await fetch(url, { method: 'POST', headers, body });
  } catch (error) {
    throw new CliError(`cannot reach ${url}: ${(error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message}`);
  }
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) as OperatorResponse['body'] };
  } catch {
    throw new CliError(`${url} answered ${response.status} with something that is not an operator response: ${text.slice(0, 200)}`);
  }
}

async function invoke(client: LambdaClient, functionName: string, command: Record<string, unknown>): Promise<OperatorResponse> {
  const out = await client.send(new InvokeCommand({ FunctionName: functionName, Payload: JSON.stringify(command) }));
  const body = JSON.parse(Buffer.from(out.Payload ?? []).toString() || '{}') as OperatorResponse['body'];
  return { status: out.FunctionError ? 500 : body.ok ? 200 : 400, body };
}

/** The region of a Function URL (`<id>.lambda-url.<region>.on.aws`), where its function runs. */
const regionOfUrl = (url: URL): string | undefined => /^[a-z0-9]+\.lambda-url\.([a-z0-9-]+)\.on\.aws$/.exec(url.hostname)?.[1];

/**
 * The operator Function URL, SigV4-signed with the standard AWS credential chain, with a caller proof
 * (a presigned sts:GetCallerIdentity for this body and this URL, signed with the same credentials):
 * the function acts on nothing but a pause without one.
 */
export function awsTarget(options: { url: string; region: string; breakGlassFunction?: string }): OperatorTarget {
  const url = new URL(options.url);
  const region = regionOfUrl(url) ?? options.region;
  const credentials = defaultProvider();
  const signer = new SignatureV4({ service: 'lambda', region, credentials, sha256: Sha256 });
  return {
    description: `AWS ${url.host}`,
    async call(command) {
      const body = JSON.stringify(command);
      let signed;
      try {
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
        throw new CliError(`no AWS credentials: ${(error as Error).message}. Configure a profile (AWS_PROFILE) or assume the operators role first.`);
      }
      return post(options.url, signed.headers as Record<string, string>, body);
    },
    async breakGlass(command) {
      if (!options.breakGlassFunction) throw new CliError('--break-glass needs the function name (--break-glass-function or KILLSWITCH_BREAK_GLASS_FUNCTION)', Exit.BAD_INPUT);
      return invoke(new LambdaClient({ region: options.region }), options.breakGlassFunction, command);
    },
  };
}

/**
 * The local stack: the principal is named with --as, which only the local stack accepts, and proven
 * with credentials the local stack issues for it.
 */
export function localTarget(options: { operatorUrl: string; lambdaEndpoint: string; stsEndpoint: string; as: string; region: string }): OperatorTarget {
  return {
    description: `local stack ${options.operatorUrl} as ${options.as}`,
    async call(command) {
      const body = JSON.stringify(command);
      let identity: Record<string, string>;
      const { localOperatorHeaders } = await fromCheckout('--local', () => import('../../../local/sts.ts'));
      try {
        identity = await localOperatorHeaders({ stsEndpoint: options.stsEndpoint, operatorUrl: options.operatorUrl, as: options.as, body, region: options.region });
      } catch (error) {
        throw new CliError(`the local stack gave no credentials for ${options.as}: ${(error as Error).message}`);
      }
      return post(options.operatorUrl, { 'content-type': 'application/json', ...identity }, body);
    },
    breakGlass: (command) =>
      invoke(new LambdaClient({ region: options.region, endpoint: options.lambdaEndpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }), 'break-glass', command),
  };
}
