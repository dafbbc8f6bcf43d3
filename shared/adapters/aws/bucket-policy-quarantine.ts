import { DeleteBucketPolicyCommand, GetBucketPolicyCommand, PutBucketPolicyCommand, type S3Client } from '@aws-sdk/client-s3';
import { KillSwitchError } from '../../domain/errors.ts';
import { addQuarantine, quarantineSid, quarantinesIn, removeQuarantine, type Quarantine } from '../../grants/quarantine-policy.ts';

/** The policy did not settle with the change after every attempt (someone keeps rewriting it): reported, never taken for done. */
export class QuarantineNotSettledError extends KillSwitchError {
  constructor(bucket: string, what: string, attempts: number) {
    super(
      `bucket policy of ${bucket}: ${what} did not hold after ${attempts} attempts (a concurrent writer?); retry or check the policy`,
      'FAILURE',
    );
  }
}

export interface BucketPolicyQuarantineOptions {
  /** Read-modify-write rounds before giving up. */
  attempts?: number;
  /** Wait before the verifying re-read (bucket configuration is eventually consistent). */
  settleMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** The bucket's expected owner account: S3 refuses the call (403) for any other. */
  expectedOwner?: string;
}

/**
 * The bucket-policy quarantine on S3: `PutBucketPolicy` replaces the whole document and has no
 * conditional form, so each change is a read-modify-write, verified by reading again: the
 * incident's statements must be there (or gone) and, by Sid, every statement that was there
 * before must still be. A round that finds otherwise (a concurrent writer, a stale read) starts
 * again from what it reads; the edit itself (quarantine-policy.ts) is idempotent by Sid.
 */
export class BucketPolicyQuarantine {
  readonly #attempts: number;
  readonly #settleMs: number;
  readonly #sleep: (ms: number) => Promise<void>;
  constructor(
    private readonly s3: S3Client,
    private readonly options: BucketPolicyQuarantineOptions = {},
  ) {
    this.#attempts = options.attempts ?? 5;
    this.#settleMs = options.settleMs ?? 500;
    this.#sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /** The bucket's policy document, or undefined when it has none. */
  async read(bucket: string): Promise<string | undefined> {
    try {
      const out = await this.s3.send(new GetBucketPolicyCommand({ Bucket: bucket, ...this.#owner() }));
      return out.Policy;
    } catch (error) {
      // No modelled exception: S3 answers 404 NoSuchBucketPolicy.
      if ((error as { name?: string }).name === 'NoSuchBucketPolicy') return undefined;
      throw error;
    }
  }

  /** Incidents whose quarantine the bucket's policy holds. */
  async held(bucket: string): Promise<string[]> {
    return quarantinesIn(bucket, await this.read(bucket));
  }

  /** Add the incident's quarantine. ADDED: this call wrote it; ALREADY: it was in force. */
  async apply(q: Quarantine): Promise<'ADDED' | 'ALREADY'> {
    let wrote = false;
    for (let attempt = 1; attempt <= this.#attempts; attempt++) {
      const before = await this.read(q.bucket);
      const next = addQuarantine(before, q);
      if (!next.changed) return wrote ? 'ADDED' : 'ALREADY';
      await this.s3.send(new PutBucketPolicyCommand({ Bucket: q.bucket, Policy: next.policy, ...this.#owner() }));
      wrote = true;
      await this.#sleep(this.#settleMs);
      const after = await this.read(q.bucket);
      // Both statements, exactly as intended (applying again would change nothing), and nothing lost.
      if (!addQuarantine(after, q).changed && keeps(before, after)) return 'ADDED';
    }
    throw new QuarantineNotSettledError(q.bucket, `the statement ${quarantineSid(q.incidentId)}`, this.#attempts);
  }

  /** Remove exactly the incident's quarantine. REMOVED: this call removed it; ABSENT: it was not there. */
  async release(bucket: string, incidentId: string): Promise<'REMOVED' | 'ABSENT'> {
    let wrote = false;
    for (let attempt = 1; attempt <= this.#attempts; attempt++) {
      const before = await this.read(bucket);
      const next = removeQuarantine(bucket, before, incidentId);
      if (!next.changed) return wrote ? 'REMOVED' : 'ABSENT';
      if (next.policy === undefined) await this.s3.send(new DeleteBucketPolicyCommand({ Bucket: bucket, ...this.#owner() }));
      else await this.s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: next.policy, ...this.#owner() }));
      wrote = true;
      await this.#sleep(this.#settleMs);
      const after = await this.read(bucket);
      if (!quarantinesIn(bucket, after).includes(incidentId) && keeps(next.policy, after)) return 'REMOVED';
    }
    throw new QuarantineNotSettledError(bucket, `removing the statement ${quarantineSid(incidentId)}`, this.#attempts);
  }

  #owner() {
    return this.options.expectedOwner ? { ExpectedBucketOwner: this.options.expectedOwner } : {};
  }
}

/** Every statement with a Sid in `before` is in `after` (S3 reformats what it returns: compared by Sid). */
function keeps(before: string | undefined, after: string | undefined): boolean {
  const sids = (policy: string | undefined): Set<string> => {
    if (policy === undefined) return new Set();
    const statement = (JSON.parse(policy) as { Statement?: unknown }).Statement;
    const list = Array.isArray(statement) ? statement : statement === undefined ? [] : [statement];
    return new Set(list.map((s) => (s as { Sid?: unknown }).Sid).filter((sid): sid is string => typeof sid === 'string'));
  };
  const kept = sids(after);
  return [...sids(before)].every((sid) => kept.has(sid));
}
