import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { FeedStore } from '../../killswitch/state-feed.ts';

/** The feed's origin: a private S3 bucket (CloudFront reads it through origin access control). */
export class FeedBucket implements FeedStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly account?: string,
  ) {}

  async put(key: string, body: string, options: { contentType: string; cacheControl: string }): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: body,
        ContentType: options.contentType,
        CacheControl: options.cacheControl,
        ...(this.account ? { ExpectedBucketOwner: this.account } : {}),
      }),
    );
  }
}
