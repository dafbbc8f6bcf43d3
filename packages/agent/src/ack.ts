/**
 * Halt acknowledgements (docs/state-feed.md §7): what an agent applied, reported to killswitch's
 * acknowledgement endpoint and authenticated with the agent's enrolment secret (HMAC-SHA256 over
 * the exact body). An acknowledgement proves that the holder of this agent's secret said it applied
 * `seq`; it does not prove that the agent's process really stopped.
 */
import { base64url } from 'jose';

export const ACK_SIGNATURE_HEADER = 'x-killswitch-signature';
const ENROLMENT_CONTEXT = 'killswitch-agent-enrolment:v1:';

export interface AckOptions {
  /** The acknowledgement endpoint (the stack's `AckUrl` output). */
  url: string;
  /** This agent's id, as enrolled (`^[A-Za-z0-9._:-]{1,128}$`). */
  collectorId: string;
  /** The enrolment secret this agent was given (base64url), see {@link deriveAgentSecret}. */
  secret: string;
  /** Heartbeat interval. @default 900000 (15 minutes) */
  heartbeatMs?: number;
  /** Spread a change's acknowledgement over up to this long, so a fleet does not ack in one instant. @default 0 */
  jitterMs?: number;
}

export interface Ack {
  collectorId: string;
  programId: string;
  seq: number;
  allowed: boolean;
  /** The agent's wall clock when it applied the change (its claim; the endpoint records its own time too). */
  at: string;
  kind: 'change' | 'heartbeat';
}

const encoder = new TextEncoder();
const hmacKey = (secret: Uint8Array) =>
  crypto.subtle.importKey('raw', new Uint8Array(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);

/** An agent's enrolment secret: HMAC-SHA256(master, "killswitch-agent-enrolment:v1:" + collectorId), base64url. */
export async function deriveAgentSecret(master: Uint8Array, collectorId: string): Promise<string> {
  const mac = await crypto.subtle.sign('HMAC', await hmacKey(master), encoder.encode(ENROLMENT_CONTEXT + collectorId));
  return base64url.encode(new Uint8Array(mac));
}

/** The signature header's value for `body`: `v1=<base64url HMAC-SHA256(secret, body)>`. */
export async function signAck(secret: string, body: string): Promise<string> {
  const mac = await crypto.subtle.sign('HMAC', await hmacKey(base64url.decode(secret)), encoder.encode(body));
  return `v1=${base64url.encode(new Uint8Array(mac))}`;
}

const unref = (t: ReturnType<typeof setTimeout>) => (t as { unref?: () => void }).unref?.();

/** Sends the latest acknowledgement, retrying with backoff; a newer one replaces one not yet sent. */
export class AckSender {
  readonly #o: Required<AckOptions>;
  #pending: Ack | undefined;
  #sending = false;
  #heartbeat: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  sent = 0;
  failed = 0;

  constructor(
    options: AckOptions,
    private readonly programId: string,
    private readonly fetchFn: typeof fetch,
  ) {
    if (!/^[A-Za-z0-9._:-]{1,128}$/.test(options.collectorId ?? ''))
      throw new TypeError('invalid ack options: collectorId: 1-128 of A-Z a-z 0-9 . _ : -');
    if (!options.secret) throw new TypeError('invalid ack options: secret: required');
    this.#o = { heartbeatMs: 900_000, jitterMs: 0, ...options };
  }

  startHeartbeat(current: () => { allowed: boolean; seq: number | undefined }): void {
    const beat = () => {
      const s = current();
      if (s.seq !== undefined) this.send(s, 'heartbeat');
      this.#heartbeat = setTimeout(beat, this.#o.heartbeatMs * (0.9 + Math.random() * 0.2));
      unref(this.#heartbeat);
    };
    this.#heartbeat = setTimeout(beat, this.#o.heartbeatMs * Math.random());
    unref(this.#heartbeat);
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#heartbeat);
  }

  send(state: { allowed: boolean; seq: number | undefined }, kind: Ack['kind']): void {
    if (state.seq === undefined || this.#stopped) return;
    this.#pending = {
      collectorId: this.#o.collectorId,
      programId: this.programId,
      seq: state.seq,
      allowed: state.allowed,
      at: new Date().toISOString(),
      kind,
    };
    if (!this.#sending) void this.#drain(kind === 'change' ? Math.random() * this.#o.jitterMs : 0);
  }

  async #drain(delayMs: number): Promise<void> {
    this.#sending = true;
    try {
      if (delayMs > 0) await new Promise((r) => unref(setTimeout(r, delayMs)));
      for (let attempt = 0; this.#pending && attempt < 6; attempt++) {
        const ack = this.#pending;
        const body = JSON.stringify(ack);
        try {
          const res = await this.fetchFn(this.#o.url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', [ACK_SIGNATURE_HEADER]: await signAck(this.#o.secret, body) },
            body,
          });
          await res.text();
          if (res.status >= 400 && res.status < 500) {
            this.failed++; // rejected: sending it again would not help
            if (this.#pending === ack) this.#pending = undefined;
            continue;
          }
          if (!res.ok) throw new Error(`HTTP ${res.status}`);
          this.sent++;
          if (this.#pending === ack) this.#pending = undefined;
          attempt = -1;
        } catch {
          this.failed++;
          await new Promise((r) => unref(setTimeout(r, Math.min(30_000, 250 * 2 ** attempt) * (0.5 + Math.random()))));
        }
      }
    } finally {
      this.#sending = false;
    }
  }
}
