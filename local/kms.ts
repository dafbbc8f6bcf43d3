import { createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import type { HttpHandler, HttpReply } from './http.ts';

const reply = (status: number, body: unknown): HttpReply => ({
  status,
  headers: { 'content-type': 'application/x-amz-json-1.1' },
  body: JSON.stringify(body),
});
const error = (status: number, type: string, message: string) => reply(status, { __type: type, message });

/**
 * The local stand-in for the two KMS calls the state feed makes (AWS JSON 1.1 protocol,
 * `X-Amz-Target: TrentService.<Action>`): `Sign` (ECDSA_SHA_256 over a RAW message, DER signature,
 * as KMS returns it) and `GetPublicKey` (DER SubjectPublicKeyInfo). Its keys are ECC_NIST_P256
 * SIGN_VERIFY keys made when the stack starts; their private halves exist only in this process.
 */
export class LocalKms {
  readonly #keys = new Map<string, KeyObject>();

  /** Make a signing key for this ARN (its key id is the ARN's last part). */
  createSigningKey(arn: string): void {
    this.#keys.set(arn, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
  }

  #find(keyId: unknown): [string, KeyObject] | undefined {
    if (typeof keyId !== 'string') return undefined;
    for (const [arn, key] of this.#keys) if (arn === keyId || arn.endsWith(`/${keyId}`)) return [arn, key];
    return undefined;
  }

  handler(): HttpHandler {
    return async ({ method, headers, body }) => {
      const action = String(headers['x-amz-target'] ?? '').replace(/^TrentService\./, '');
      if (method !== 'POST') return error(400, 'UnsupportedOperationException', `${method} is not a KMS call`);
      let input: Record<string, unknown>;
      try {
        input = JSON.parse(body || '{}') as Record<string, unknown>;
      } catch {
        return error(400, 'SerializationException', 'the body is not JSON');
      }
      const found = this.#find(input.KeyId);
      if (action !== 'Sign' && action !== 'GetPublicKey')
        return error(400, 'UnsupportedOperationException', `the local KMS serves Sign and GetPublicKey, not ${action}`);
      if (!found) return error(400, 'NotFoundException', `Key '${String(input.KeyId)}' does not exist`);
      const [arn, key] = found;
      if (action === 'GetPublicKey') {
        return reply(200, {
          KeyId: arn,
          PublicKey: createPublicKey(key).export({ format: 'der', type: 'spki' }).toString('base64'),
          KeySpec: 'ECC_NIST_P256',
          KeyUsage: 'SIGN_VERIFY',
          SigningAlgorithms: ['ECDSA_SHA_256'],
        });
      }
      if (input.SigningAlgorithm !== 'ECDSA_SHA_256')
        return error(400, 'InvalidKeyUsageException', 'this key signs with ECDSA_SHA_256 only');
      if ((input.MessageType ?? 'RAW') !== 'RAW') return error(400, 'ValidationException', 'the local KMS signs RAW messages only');
      const message = Buffer.from(String(input.Message ?? ''), 'base64');
      if (message.length === 0 || message.length > 4096) return error(400, 'ValidationException', 'Message must be 1 to 4096 bytes');
      return reply(200, {
        KeyId: arn,
        Signature: sign('sha256', message, { key, dsaEncoding: 'der' }).toString('base64'),
        SigningAlgorithm: 'ECDSA_SHA_256',
      });
    };
  }
}
