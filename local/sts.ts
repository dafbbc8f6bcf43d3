import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { signCallerProof, CALLER_PROOF_HEADER } from '#shared/adapters/aws/caller-proof.ts';
import type { HttpHandler, HttpReply } from './http.ts';
import { LOCAL_PRINCIPAL_HEADER } from './lambda-endpoint.ts';

/** Where the local stack hands out credentials for a principal (it stands in for assuming a role). */
export const LOCAL_CREDENTIALS_PATH = '/killswitch-local/credentials';

interface Issued {
  secretAccessKey: string;
  arn: string;
  account: string;
}

const json = (status: number, body: unknown): HttpReply => ({
  status,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});
const stsError = (status: number, code: string, message: string): HttpReply =>
  json(status, { Error: { Type: 'Sender', Code: code, Message: message } });
const ARN = /^arn:aws[a-z-]*:(?:sts|iam)::(\d{12}):[\w+=,.@/-]+$/;

/**
 * AWS STS's `GetCallerIdentity`, locally, for caller proofs (shared/adapters/aws/caller-proof.ts): it checks
 * a presigned request's SigV4 signature the way STS does — the credentials' secret, the signed
 * headers as sent, the signing date and expiry — and answers with the ARN of the principal those
 * credentials were issued for. Credentials are issued by the local stack (`credentialsFor`, or
 * `POST /killswitch-local/credentials` for the CLI), standing in for assuming a role.
 */
export class LocalSts {
  readonly #issued = new Map<string, Issued>();

  credentialsFor(arn: string): { accessKeyId: string; secretAccessKey: string } {
    const m = ARN.exec(arn);
    if (!m) throw new Error(`not an IAM or STS principal ARN: ${arn}`);
    const accessKeyId = `ASIA${randomBytes(8).toString('hex').toUpperCase()}`;
    const secretAccessKey = randomBytes(30).toString('base64');
    this.#issued.set(accessKeyId, { secretAccessKey, arn, account: m[1]! });
    return { accessKeyId, secretAccessKey };
  }

  handler(now: () => Date = () => new Date()): HttpHandler {
    return async ({ method, url, headers, body }) => {
      const parsed = new URL(url, 'http://local');
      if (method === 'POST' && parsed.pathname === LOCAL_CREDENTIALS_PATH) {
        try {
          return json(200, this.credentialsFor(String((JSON.parse(body) as { arn?: unknown }).arn)));
        } catch (error) {
          return json(400, { message: (error as Error).message });
        }
      }
      if (method !== 'GET' || parsed.pathname !== '/' || parsed.searchParams.get('Action') !== 'GetCallerIdentity') {
        return stsError(400, 'InvalidAction', `the local STS answers GetCallerIdentity only (${method} ${parsed.pathname})`);
      }
      return this.#getCallerIdentity(parsed.searchParams, headers, now());
    };
  }

  async #getCallerIdentity(q: URLSearchParams, headers: Record<string, string | string[] | undefined>, now: Date): Promise<HttpReply> {
    const [accessKeyId = '', day, region, service] = (q.get('X-Amz-Credential') ?? '').split('/');
    const issued = this.#issued.get(accessKeyId);
    if (!issued) return stsError(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.');
    const date = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(q.get('X-Amz-Date') ?? '');
    const expires = Number(q.get('X-Amz-Expires'));
    if (!date || !Number.isInteger(expires) || service !== 'sts' || !region || day !== date.slice(1, 4).join('')) {
      return stsError(403, 'IncompleteSignature', 'The request signature is malformed.');
    }
    const signedAt = new Date(Date.UTC(+date[1]!, +date[2]! - 1, +date[3]!, +date[4]!, +date[5]!, +date[6]!));
    if (now.getTime() > signedAt.getTime() + expires * 1000) return stsError(403, 'ExpiredToken', 'Signature expired.');
    const signedHeaders = (q.get('X-Amz-SignedHeaders') ?? '').split(';').filter(Boolean);
    const host = String(headers.host ?? '');
    const [hostname, port] = host.split(':');
    // Sign the same request again with the issued secret: the signature matches only if every signed
    // header, the query and the date are what the caller signed.
    const resigned = await new SignatureV4({
      service: 'sts',
      region,
      credentials: { accessKeyId, secretAccessKey: issued.secretAccessKey },
      sha256: Sha256,
    }).presign(
      {
        method: 'GET',
        protocol: 'http:',
        hostname: hostname!,
        ...(port ? { port: Number(port) } : {}),
        path: '/',
        query: Object.fromEntries([...q.entries()].filter(([k]) => !k.startsWith('X-Amz-'))),
        headers: Object.fromEntries(signedHeaders.map((h) => [h, h === 'host' ? host : String(headers[h] ?? '')])),
      },
      { expiresIn: expires, signingDate: signedAt },
    );
    // STS signs the query as received: every parameter must be the one a correct signature covers.
    const expectedQuery = Object.entries(resigned.query ?? {}).map(([k, v]) => [k, String(v)] as const);
    const sameQuery =
      expectedQuery.length === [...q.keys()].length &&
      expectedQuery.every(([k, v]) => k === 'X-Amz-Signature' || (q.getAll(k).length === 1 && q.get(k) === v));
    const expected = Buffer.from(String(resigned.query?.['X-Amz-Signature'] ?? ''));
    const given = Buffer.from(q.get('X-Amz-Signature') ?? '');
    if (!sameQuery || expected.length !== given.length || !timingSafeEqual(expected, given)) {
      return stsError(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.');
    }
    return json(200, {
      GetCallerIdentityResponse: {
        GetCallerIdentityResult: { Arn: issued.arn, Account: issued.account, UserId: `AROALOCAL:${issued.arn.split('/').pop()}` },
        ResponseMetadata: { RequestId: randomUUID() },
      },
    });
  }
}

/**
 * The headers an operator request to the local stack carries: the principal AWS would have verified
 * (`x-killswitch-as`, which only the local Function URL accepts) and a caller proof signed with
 * credentials the local stack issued for that principal.
 */
export async function localOperatorHeaders(options: {
  stsEndpoint: string;
  operatorUrl: string;
  as: string;
  body: string;
  region: string;
}): Promise<Record<string, string>> {
  const response = await fetch(new URL(LOCAL_CREDENTIALS_PATH, options.stsEndpoint), {
    method: 'POST',
    body: JSON.stringify({ arn: options.as }),
  });
  if (!response.ok) throw new Error(`the local stack issued no credentials for ${options.as}: ${await response.text()}`);
  const credentials = (await response.json()) as { accessKeyId: string; secretAccessKey: string };
  const proof = await signCallerProof({
    credentials,
    region: options.region,
    audience: new URL(options.operatorUrl).host,
    body: options.body,
    endpoint: new URL(options.stsEndpoint),
  });
  return { [LOCAL_PRINCIPAL_HEADER]: options.as, [CALLER_PROOF_HEADER]: proof };
}
