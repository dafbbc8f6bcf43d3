import { createHash } from 'node:crypto';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider, HttpRequest } from '@smithy/types';
import { KillSwitchError, PolicyRefusedError } from '../../domain/errors.ts';

/**
 * A caller proof: who calls the operator function, proven by AWS STS rather than by the request
 * context Lambda hands the function.
 *
 * Through the Function URL (AWS_IAM) Lambda verifies the caller's SigV4 signature and puts the
 * caller's ARN in `requestContext.authorizer.iam`. But a principal of the same account whose own
 * identity policy allows `lambda:InvokeFunction` may invoke the function directly with any event it
 * likes, that context included — a resource policy cannot forbid it (Lambda's have no Deny). So the
 * client also sends a presigned `sts:GetCallerIdentity` request, signed with its own credentials and
 * binding two headers it signs: the audience (the Function URL's host) and the SHA-256 of the
 * request body. The function sends that request to STS, which answers with the signer's ARN only
 * if the signature, the headers and the time are right. Nobody can produce one for another
 * principal's credentials; a captured one is good for one minute, for this function and this very
 * body. (The pattern is aws-iam-authenticator's and Vault's AWS auth method's.)
 */
export const CALLER_PROOF_HEADER = 'x-killswitch-caller-proof';
const AUDIENCE_HEADER = 'x-killswitch-audience';
const BODY_HEADER = 'x-killswitch-body-sha256';
const SIGNED = ['host', AUDIENCE_HEADER, BODY_HEADER];
/** How long a proof is good for (X-Amz-Expires); STS enforces it. */
export const PROOF_EXPIRES_S = 60;
/** Clock skew tolerated for X-Amz-Date (STS allows five minutes). */
const MAX_SKEW_MS = 5 * 60_000;
const STS_VERSION = '2011-06-15';

const sha256 = (body: string): string => createHash('sha256').update(body, 'utf8').digest('hex');

/** The STS endpoint a client signs for: `AWS_ENDPOINT_URL_STS` when set (an emulator), else the regional one. */
export const stsEndpoint = (region: string, override = process.env.AWS_ENDPOINT_URL_STS): URL =>
  new URL(override ?? `https://sts.${region}.amazonaws.com/`);

/** Sign a proof of the caller's identity for one request body, to one audience (the Function URL's host). */
export async function signCallerProof(options: {
  credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  region: string;
  audience: string;
  body: string;
  endpoint?: URL;
  now?: Date;
}): Promise<string> {
  const endpoint = options.endpoint ?? stsEndpoint(options.region);
  const signer = new SignatureV4({ service: 'sts', region: options.region, credentials: options.credentials, sha256: Sha256 });
  const presigned = await signer.presign(
    {
      method: 'GET',
      protocol: endpoint.protocol,
      hostname: endpoint.hostname,
      ...(endpoint.port ? { port: Number(endpoint.port) } : {}),
      path: '/',
      query: { Action: 'GetCallerIdentity', Version: STS_VERSION },
      headers: { host: endpoint.host, [AUDIENCE_HEADER]: options.audience, [BODY_HEADER]: sha256(options.body) },
    },
    { expiresIn: PROOF_EXPIRES_S, ...(options.now ? { signingDate: options.now } : {}) },
  );
  return urlOf(presigned).toString();
}

function urlOf(request: HttpRequest): URL {
  const url = new URL(`${request.protocol}//${request.hostname}${request.port ? `:${request.port}` : ''}${request.path}`);
  for (const [k, v] of Object.entries(request.query ?? {})) {
    for (const value of ([] as (string | null)[]).concat(v)) url.searchParams.append(k, value ?? '');
  }
  return url;
}

export interface ProvenCaller {
  arn: string;
  account: string;
  userId: string;
}

export interface CallerProofVerifierOptions {
  /** The STS endpoint proofs must be signed for (an emulator's, when `AWS_ENDPOINT_URL_STS` is set). */
  endpoint?: URL;
  fetch?: typeof fetch;
  clock?: () => Date;
  timeoutMs?: number;
}

/** Refused: the proof is not a valid GetCallerIdentity signature for this audience and body. */
export class CallerProofError extends PolicyRefusedError {}

/** STS could not be asked (unreachable, throttling, 5xx): not a refusal, a failure to verify. */
export class CallerProofUnavailableError extends KillSwitchError {
  constructor(message: string) {
    super(message, 'FAILURE');
  }
}

/**
 * Checks caller proofs: the URL must be a presigned GetCallerIdentity for the one STS endpoint this
 * function trusts (never any other host: no request goes anywhere else), signing the audience and
 * body headers, and fresh; then STS itself says whose signature it is.
 */
export class CallerProofVerifier {
  readonly #fetch: typeof fetch;
  readonly #clock: () => Date;
  constructor(
    private readonly region: string,
    private readonly options: CallerProofVerifierOptions = {},
  ) {
    this.#fetch = options.fetch ?? fetch;
    this.#clock = options.clock ?? (() => new Date());
  }

  async verify(proof: string, expected: { audience: string; body: string }): Promise<ProvenCaller> {
    const url = this.#check(proof);
    let response: Response;
    try {
      response = await this.#fetch(url, {
        method: 'GET',
        headers: { [AUDIENCE_HEADER]: expected.audience, [BODY_HEADER]: sha256(expected.body), accept: 'application/json' },
        redirect: 'error',
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 3000),
      });
    } catch (error) {
      throw new CallerProofUnavailableError(`STS could not be asked to verify the caller proof: ${(error as Error).message}`);
    }
    const text = await response.text();
    if (response.status === 403 || response.status === 400) {
      throw new CallerProofError(
        `STS rejected the caller proof (${errorCodeOf(text) ?? response.status}): it is not a current signature of this request by the caller`,
      );
    }
    if (!response.ok) throw new CallerProofUnavailableError(`STS answered ${response.status} to the caller proof`);
    let result: { Arn?: unknown; Account?: unknown; UserId?: unknown } | undefined;
    try {
      result = (JSON.parse(text) as { GetCallerIdentityResponse?: { GetCallerIdentityResult?: typeof result } }).GetCallerIdentityResponse
        ?.GetCallerIdentityResult;
    } catch {
      result = undefined;
    }
    if (typeof result?.Arn !== 'string' || typeof result.Account !== 'string' || typeof result.UserId !== 'string') {
      throw new CallerProofUnavailableError('STS answered the caller proof with something that is not a GetCallerIdentity result');
    }
    return { arn: result.Arn, account: result.Account, userId: result.UserId };
  }

  /** Everything that can be checked without STS; the URL to send if all of it holds. */
  #check(proof: string): URL {
    let url: URL;
    try {
      url = new URL(proof);
    } catch {
      throw new CallerProofError('the caller proof is not a URL (a presigned sts:GetCallerIdentity request)');
    }
    // Exactly one host: this region's STS endpoint (or the configured emulator). A proof addressed
    // anywhere else is refused before any request is made.
    const trusted = this.options.endpoint ?? stsEndpoint(this.region);
    const hostOk = url.protocol === trusted.protocol && url.host === trusted.host && url.pathname === '/';
    if (!hostOk || url.username || url.password || url.hash)
      throw new CallerProofError(
        `the caller proof is not addressed to AWS STS (${trusted.host}): ${url.protocol}//${url.host}${url.pathname}`,
      );
    const q = url.searchParams;
    const allowed = new Set([
      'Action',
      'Version',
      'X-Amz-Algorithm',
      'X-Amz-Credential',
      'X-Amz-Date',
      'X-Amz-Expires',
      'X-Amz-SignedHeaders',
      'X-Amz-Signature',
      'X-Amz-Security-Token',
    ]);
    const extra = [...q.keys()].filter((k) => !allowed.has(k));
    if (extra.length || [...allowed].some((k) => q.getAll(k).length > 1))
      throw new CallerProofError(
        `the caller proof has parameters a GetCallerIdentity proof has no use for: ${extra.join(', ') || 'repeated ones'}`,
      );
    if (q.get('Action') !== 'GetCallerIdentity' || q.get('Version') !== STS_VERSION)
      throw new CallerProofError('the caller proof is not a GetCallerIdentity request');
    if (q.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256' || !q.get('X-Amz-Credential') || !q.get('X-Amz-Signature'))
      throw new CallerProofError('the caller proof is not SigV4-presigned');
    const signed = (q.get('X-Amz-SignedHeaders') ?? '').split(';');
    const missing = SIGNED.filter((h) => !signed.includes(h));
    if (missing.length) throw new CallerProofError(`the caller proof does not sign ${missing.join(', ')}: it would not bind this request`);
    const expires = Number(q.get('X-Amz-Expires'));
    if (!Number.isInteger(expires) || expires < 1 || expires > 15 * 60)
      throw new CallerProofError('the caller proof has no valid X-Amz-Expires (at most 15 minutes)');
    const date = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(q.get('X-Amz-Date') ?? '');
    const signedAt = date ? Date.UTC(+date[1]!, +date[2]! - 1, +date[3]!, +date[4]!, +date[5]!, +date[6]!) : NaN;
    const now = this.#clock().getTime();
    if (!Number.isFinite(signedAt) || signedAt > now + MAX_SKEW_MS || now > signedAt + expires * 1000 + MAX_SKEW_MS) {
      throw new CallerProofError('the caller proof is expired or not yet valid: sign a new one');
    }
    return url;
  }
}

const errorCodeOf = (text: string): string | undefined => /"Code"\s*:\s*"([^"]+)"|<Code>([^<]+)<\/Code>/.exec(text)?.slice(1).find(Boolean);
