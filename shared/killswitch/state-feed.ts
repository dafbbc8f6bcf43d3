/**
 * Publishing the signed state feed (docs/state-feed.md): after every state change, and every
 * minute, each program's scopes are read (strongly consistent), signed into a state document and
 * written where the feed is served from. Events are only the prompt to publish: what is signed is
 * always what the table says.
 */
import { encodeStateDocument, type Jwks, type StateDocumentPayload } from '#agent/document.ts';
import type { ProgramState } from '../schemas/program-state.ts';
import { seqOf } from './state-seq.ts';

/** Signs the JWS signing input with the current key; publishes the keys that may have signed. */
export interface StateSigner {
  /** The current signing key's kid (RFC 7638 thumbprint). */
  kid(): Promise<string>;
  /** The 64-byte R‖S ES256 signature of `input`. */
  sign(input: Uint8Array): Promise<Uint8Array>;
  /** Every key a document in circulation may have been signed with (the signing key first). */
  keySet(): Promise<Jwks>;
}

/** Where the feed is served from (an S3 bucket behind CloudFront). */
export interface FeedStore {
  put(key: string, body: string, options: { contentType: string; cacheControl: string }): Promise<void>;
}

export interface StateReader {
  list(programId: string): Promise<ProgramState[]>;
}

export interface StateFeedSettings {
  /** A document's validity, `exp − iat`. @default 300 */
  validitySeconds: number;
  /** `Cache-Control: max-age` of documents (CloudFront and agents). @default 1 */
  documentMaxAgeSeconds: number;
  /** `Cache-Control: max-age` of the key set. @default 300 */
  keySetMaxAgeSeconds: number;
}

export const documentKey = (programId: string) => `state/${programId}.jws`;
export const KEY_SET_KEY = 'keys.json';

export interface Published {
  programId: string;
  seq: number;
  iat: number;
  exp: number;
  /** Documents written: more than one when the state changed while publishing. */
  writes: number;
  /** Scopes the document says are PAUSED (the dashboard's current state, every minute and on every change). */
  pausedScopes: number;
}

export class StateFeedPublisher {
  constructor(
    private readonly deps: { states: StateReader; signer: StateSigner; store: FeedStore; now?: () => number },
    private readonly settings: StateFeedSettings,
  ) {}

  /**
   * Publish one program's document, again until the state read after a write is the state written.
   * A program without state (not registered yet) has nothing to sign: undefined, and its agents stay
   * closed (no document is a reason to stop, docs/state-feed.md §5).
   */
  async publish(programId: string): Promise<Published | undefined> {
    let states = await this.deps.states.list(programId);
    for (let writes = 1; ; writes++) {
      const payload = this.#payload(programId, states);
      if (!payload) return undefined;
      const token = await encodeStateDocument(payload, await this.deps.signer.kid(), (input) => this.deps.signer.sign(input));
      await this.deps.store.put(documentKey(programId), token, {
        contentType: 'application/jose',
        cacheControl: `max-age=${this.settings.documentMaxAgeSeconds}`,
      });
      // A publisher that read an older state may have written after a newer one: whoever reads a
      // state other than the one it wrote writes again, so the document never stays behind the table.
      const after = await this.deps.states.list(programId);
      if (seqOf(after) === payload.seq || writes >= 10) {
        const pausedScopes = payload.scopes.filter((s) => s.status === 'PAUSED').length;
        return { programId, seq: payload.seq, iat: payload.iat, exp: payload.exp, writes, pausedScopes };
      }
      states = after;
    }
  }

  async publishKeySet(): Promise<void> {
    await this.deps.store.put(KEY_SET_KEY, JSON.stringify(await this.deps.signer.keySet()), {
      contentType: 'application/jwk-set+json',
      cacheControl: `max-age=${this.settings.keySetMaxAgeSeconds}`,
    });
  }

  #payload(programId: string, states: readonly ProgramState[]): StateDocumentPayload | undefined {
    if (!states.some((s) => s.scope === '*')) return undefined;
    const iat = Math.floor((this.deps.now?.() ?? Date.now()) / 1000);
    return {
      v: 1,
      programId,
      seq: seqOf(states),
      iat,
      exp: iat + this.settings.validitySeconds,
      scopes: [...states]
        .sort((a, b) => (a.scope < b.scope ? -1 : a.scope > b.scope ? 1 : 0))
        .map((s) => ({ scope: s.scope, status: s.status, version: s.version })),
    };
  }
}
