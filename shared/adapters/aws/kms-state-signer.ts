import { createPublicKey } from 'node:crypto';
import { GetPublicKeyCommand, SignCommand, type KMSClient } from '@aws-sdk/client-kms';
import { calculateJwkThumbprint, type JWK } from 'jose';
import type { StateSigner } from '../../killswitch/state-feed.ts';
import type { Jwks } from '#agent/document.ts';

/** KMS returns ECDSA signatures in DER (`SEQUENCE { INTEGER r, INTEGER s }`); JWS wants the 64-byte R‖S. */
export function derToRaw(der: Uint8Array): Uint8Array {
  const fail = () => {
    throw new Error('not a DER ECDSA signature');
  };
  let i = 0;
  if (der[i++] !== 0x30) fail();
  let len = der[i++]!;
  if (len & 0x80) i += len & 0x7f; // long form (never for P-256, tolerated)
  const out = new Uint8Array(64);
  for (const offset of [0, 32]) {
    if (der[i++] !== 0x02) fail();
    len = der[i++]!;
    let int = der.subarray(i, i + len);
    i += len;
    while (int.length > 32 && int[0] === 0) int = int.subarray(1);
    if (int.length > 32) fail();
    out.set(int, offset + 32 - int.length);
  }
  return out;
}

interface KeyInfo {
  arn: string;
  jwk: JWK & { kid: string };
}

/**
 * The state feed's signer in AWS: an asymmetric KMS key (`ECC_NIST_P256`, `SIGN_VERIFY`) signs,
 * and its private half never leaves KMS. `keyArns[0]` signs; every key listed is published in the
 * key set (a rotation lists the new key first and the old one after it until its documents expire).
 */
export class KmsStateSigner implements StateSigner {
  #keys: Promise<KeyInfo[]> | undefined;

  constructor(
    private readonly kms: KMSClient,
    private readonly keyArns: readonly string[],
  ) {
    if (!keyArns.length) throw new Error('KmsStateSigner: at least one key');
  }

  #load(): Promise<KeyInfo[]> {
    this.#keys ??= Promise.all(
      this.keyArns.map(async (arn) => {
        const { PublicKey, KeySpec, KeyUsage } = await this.kms.send(new GetPublicKeyCommand({ KeyId: arn }));
        if (KeySpec !== 'ECC_NIST_P256' || KeyUsage !== 'SIGN_VERIFY' || !PublicKey)
          throw new Error(`state feed key ${arn} is ${KeySpec}/${KeyUsage}, not ECC_NIST_P256/SIGN_VERIFY`);
        const { x, y } = createPublicKey({ key: Buffer.from(PublicKey), format: 'der', type: 'spki' }).export({ format: 'jwk' });
        const jwk: JWK = { kty: 'EC', crv: 'P-256', x: x!, y: y! };
        return { arn, jwk: { ...jwk, kid: await calculateJwkThumbprint(jwk), use: 'sig', alg: 'ES256' } };
      }),
    ).catch((error: unknown) => {
      this.#keys = undefined;
      throw error;
    });
    return this.#keys;
  }

  async kid(): Promise<string> {
    return (await this.#load())[0]!.jwk.kid;
  }

  async sign(input: Uint8Array): Promise<Uint8Array> {
    const [signing] = await this.#load();
    const { Signature } = await this.kms.send(
      new SignCommand({ KeyId: signing!.arn, Message: input, MessageType: 'RAW', SigningAlgorithm: 'ECDSA_SHA_256' }),
    );
    if (!Signature) throw new Error('KMS Sign returned no signature');
    return derToRaw(Signature);
  }

  async keySet(): Promise<Jwks> {
    return { keys: (await this.#load()).map((k) => k.jwk) };
  }
}
