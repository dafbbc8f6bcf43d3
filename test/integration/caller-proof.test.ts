import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { CallerProofError, CallerProofUnavailableError, CallerProofVerifier, signCallerProof } from '#shared/adapters/aws/caller-proof.ts';
import { serve } from '#local/http.ts';
import { LocalSts } from '#local/sts.ts';

/*
 * Caller proofs against the local STS, which checks SigV4 presigned GetCallerIdentity requests the
 * way STS does (the issued secret, the signed headers as sent, the date and expiry).
 */
const ALICE = 'arn:aws:sts::111111111111:assumed-role/KillswitchOperators/alice';
const AUDIENCE = 'abc123.lambda-url.eu-west-1.on.aws';
const BODY = JSON.stringify({ action: 'approve-resume', programId: 'mci', requestId: '8f8b2f8e-6f5e-4a59-9d3e-7f1f3c1d2e4a' });

describe('Caller proofs: who calls the operator function, proven by STS', () => {
  const sts = new LocalSts();
  let server: Awaited<ReturnType<typeof serve>>;
  let endpoint: URL;
  let verifier: CallerProofVerifier;
  let alice: { accessKeyId: string; secretAccessKey: string };
  const sign = (options: Partial<Parameters<typeof signCallerProof>[0]> = {}) =>
    signCallerProof({ credentials: alice, region: 'eu-west-1', audience: AUDIENCE, body: BODY, endpoint, ...options });

  beforeAll(async () => {
    server = await serve(sts.handler());
    endpoint = new URL(`${server.endpoint}/`);
    verifier = new CallerProofVerifier('eu-west-1', { endpoint });
    alice = sts.credentialsFor(ALICE);
  });
  afterAll(() => server.stop());

  it("proves the signer's identity for this body and this audience", async () => {
    await expect(verifier.verify(await sign(), { audience: AUDIENCE, body: BODY })).resolves.toMatchObject({
      arn: ALICE,
      account: '111111111111',
    });
  });

  it('is refused by STS for another body, another audience, or credentials it did not issue', async () => {
    const proof = await sign();
    await expect(
      verifier.verify(proof, { audience: AUDIENCE, body: BODY.replace('approve-resume', 'approve-restore-grants') }),
    ).rejects.toThrow(/STS rejected the caller proof \(SignatureDoesNotMatch\)/);
    await expect(verifier.verify(proof, { audience: 'other.lambda-url.eu-west-1.on.aws', body: BODY })).rejects.toBeInstanceOf(
      CallerProofError,
    );
    const forged = await sign({ credentials: { accessKeyId: alice.accessKeyId, secretAccessKey: 'guessed' } });
    await expect(verifier.verify(forged, { audience: AUDIENCE, body: BODY })).rejects.toThrow(/SignatureDoesNotMatch/);
    const unknown = await sign({ credentials: { accessKeyId: 'ASIANOTISSUED00000000', secretAccessKey: 'x' } });
    await expect(verifier.verify(unknown, { audience: AUDIENCE, body: BODY })).rejects.toThrow(/InvalidClientTokenId/);
  });

  it('is refused once expired: by STS after a minute, and before any request after the skew allowance', async () => {
    const twoMinutesAgo = await sign({ now: new Date(Date.now() - 120_000) });
    await expect(verifier.verify(twoMinutesAgo, { audience: AUDIENCE, body: BODY })).rejects.toThrow(/ExpiredToken/);
    const fetch = vi.fn(globalThis.fetch);
    const strict = new CallerProofVerifier('eu-west-1', { endpoint, fetch });
    await expect(strict.verify(await sign({ now: new Date(Date.now() - 3_600_000) }), { audience: AUDIENCE, body: BODY })).rejects.toThrow(
      /expired or not yet valid/,
    );
    expect(fetch).not.toHaveBeenCalled();
  });

  it('sends nothing anywhere but the one STS endpoint it trusts, and refuses proofs that would not bind the request', async () => {
    const fetch = vi.fn(globalThis.fetch);
    const strict = new CallerProofVerifier('eu-west-1', { endpoint, fetch });
    const proof = new URL(await sign());
    const elsewhere = new URL(proof);
    elsewhere.host = 'attacker.example:443';
    await expect(strict.verify(elsewhere.toString(), { audience: AUDIENCE, body: BODY })).rejects.toThrow(/not addressed to AWS STS/);
    const extra = new URL(proof);
    extra.searchParams.append('RoleArn', 'x');
    await expect(strict.verify(extra.toString(), { audience: AUDIENCE, body: BODY })).rejects.toThrow(/parameters/);
    await expect(strict.verify('not a url', { audience: AUDIENCE, body: BODY })).rejects.toBeInstanceOf(CallerProofError);
    // A proof that signs only the host (a plain presigned GetCallerIdentity) would prove nothing about this request.
    const bare = await new SignatureV4({ service: 'sts', region: 'eu-west-1', credentials: alice, sha256: Sha256 }).presign(
      {
        method: 'GET',
        protocol: endpoint.protocol,
        hostname: endpoint.hostname,
        port: Number(endpoint.port),
        path: '/',
        query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
        headers: { host: endpoint.host },
      },
      { expiresIn: 60 },
    );
    const bareUrl = new URL(`${endpoint.origin}/?${new URLSearchParams(bare.query as Record<string, string>)}`);
    await expect(strict.verify(bareUrl.toString(), { audience: AUDIENCE, body: BODY })).rejects.toThrow(
      /does not sign x-killswitch-audience, x-killswitch-body-sha256/,
    );
    expect(fetch).not.toHaveBeenCalled();
    // In AWS only this region's STS endpoint is trusted.
    const aws = new CallerProofVerifier('eu-west-1', { fetch });
    const s3 = new URL('https://sts.s3.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15');
    await expect(aws.verify(s3.toString(), { audience: AUDIENCE, body: BODY })).rejects.toThrow(
      /not addressed to AWS STS \(sts\.eu-west-1\.amazonaws\.com\)/,
    );
    expect(fetch).not.toHaveBeenCalled();
  });

  it('says it could not ask when STS cannot be reached (a failure, not a refusal)', async () => {
    const down = new CallerProofVerifier('eu-west-1', { endpoint, fetch: () => Promise.reject(new TypeError('fetch failed')) });
    await expect(down.verify(await sign(), { audience: AUDIENCE, body: BODY })).rejects.toBeInstanceOf(CallerProofUnavailableError);
  });

  it('refuses every proof changed in any one character of any parameter', async () => {
    const proof = await sign();
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.nat(), fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789ABCDEF'), async (which, at, char) => {
        const url = new URL(proof);
        const keys = [...url.searchParams.keys()];
        const key = keys[which % keys.length]!;
        const value = url.searchParams.get(key)!;
        const i = at % value.length;
        fc.pre(value[i] !== char);
        url.searchParams.set(key, value.slice(0, i) + char + value.slice(i + 1));
        await expect(verifier.verify(url.toString(), { audience: AUDIENCE, body: BODY })).rejects.toBeInstanceOf(CallerProofError);
      }),
      { numRuns: 200 },
    );
  });
});
