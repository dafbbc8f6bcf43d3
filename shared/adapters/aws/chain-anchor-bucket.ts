import { GetObjectLockConfigurationCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ChainAnchor, ChainHead } from '../../domain/hash-chain.ts';
import type { AnchorStore, ChainAnchors } from '../../record/ports.ts';

const PREFIX = 'chains/';

/** The object key of one exported head: the place and the hash are in the key, so listing the chain's prefix reads every anchor. */
export function anchorKey(head: Pick<ChainHead, 'chainId' | 'seq' | 'hash'>): string {
  return `${chainPrefix(head.chainId)}${String(head.seq).padStart(10, '0')}-${head.hash}.json`;
}

function chainPrefix(chainId: string): string {
  return `${PREFIX}${chainId.split('/').map(encodeURIComponent).join('/')}/`;
}

const KEY = /\/(\d{10})-([0-9a-f]{64})\.json$/;

/**
 * Chain heads exported to an S3 bucket with Object Lock in compliance mode (the stateful stack's
 * ledger-anchors bucket): once written, no one — not the account's root user — can change or
 * remove them until their retention ends, so a table edited afterwards no longer matches them.
 */
export class ChainAnchorBucket implements ChainAnchors {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly account?: string,
  ) {}

  async export(head: ChainHead): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: anchorKey(head),
        Body: JSON.stringify({ chainId: head.chainId, seq: head.seq, hash: head.hash, sk: head.sk }),
        ContentType: 'application/json',
        // Object Lock buckets refuse a put without an integrity checksum: the SDK's default
        // (requestChecksumCalculation WHEN_SUPPORTED) sends a CRC32 one with every PutObject.
        ...(this.account ? { ExpectedBucketOwner: this.account } : {}),
      }),
    );
  }

  async list(chainId: string): Promise<ChainAnchor[]> {
    const anchors: ChainAnchor[] = [];
    let ContinuationToken: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: chainPrefix(chainId),
          ContinuationToken,
          ...(this.account ? { ExpectedBucketOwner: this.account } : {}),
        }),
      );
      for (const object of page.Contents ?? []) {
        const match = KEY.exec(object.Key ?? '');
        if (match) anchors.push({ seq: Number(match[1]), hash: match[2]! });
      }
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
    return anchors;
  }

  async describe(): Promise<AnchorStore> {
    const location = `s3://${this.bucket}/${PREFIX}`;
    try {
      const { ObjectLockConfiguration: c } = await this.s3.send(
        new GetObjectLockConfigurationCommand({ Bucket: this.bucket, ...(this.account ? { ExpectedBucketOwner: this.account } : {}) }),
      );
      const retention = c?.Rule?.DefaultRetention;
      const mode = c?.ObjectLockEnabled === 'Enabled' ? (retention?.Mode ?? 'NONE') : 'NONE';
      return {
        location,
        objectLock: mode === 'COMPLIANCE' || mode === 'GOVERNANCE' ? mode : 'NONE',
        ...(retention?.Days ? { retentionDays: retention.Days } : retention?.Years ? { retentionDays: retention.Years * 365 } : {}),
        ...(mode === 'COMPLIANCE' ? {} : { note: 'the bucket has no compliance-mode Object Lock: its exported heads could be rewritten' }),
      };
    } catch (error) {
      const name = (error as { name?: string }).name ?? 'Error';
      return {
        location,
        objectLock: name === 'ObjectLockConfigurationNotFoundError' ? 'NONE' : 'UNKNOWN',
        note:
          name === 'ObjectLockConfigurationNotFoundError'
            ? 'the bucket has no Object Lock (the local stack’s embedded S3 has none): its exported heads could be rewritten'
            : `Object Lock could not be read (${name}): the exported heads are checked, their immutability is not`,
      };
    }
  }
}
