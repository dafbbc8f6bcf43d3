import type { HttpHandler, HttpReply } from './http.ts';

/** S3's limit on a bucket policy document. */
const MAX_POLICY_BYTES = 20 * 1024;

import { createHash } from 'node:crypto';

const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
function s3Error(status: number, code: string, message: string, resource: string): HttpReply {
  return {
    status,
    headers: { 'content-type': 'application/xml' },
    body:
      `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message>` +
      `<Resource>${xmlEscape(resource)}</Resource><RequestId>local</RequestId></Error>`,
  };
}

/**
 * The local stand-in for S3's bucket-policy API (fauxqs's S3 has none): `GetBucketPolicy`,
 * `PutBucketPolicy` and `DeleteBucketPolicy` on the S3 REST wire protocol (path-style, `?policy`),
 * and the few object calls the state feed and the ledger's exported chain heads need (PutObject,
 * GetObject, HeadObject, ListObjectsV2; GetObjectLockConfiguration answers that there is none),
 * with S3's errors: NoSuchBucket, NoSuchBucketPolicy, MalformedPolicy (not JSON, no statements,
 * over 20 KB) and AccessDenied for an `x-amz-expected-bucket-owner` that is not the bucket's.
 * It stores policies, it does not enforce them. It is trusted only because the same contract
 * suite (test/contract/bucket-policy-api.test.ts) passes against it and against moto.
 */
export class LocalBucketPolicies {
  readonly #buckets = new Map<string, { owner: string; policy?: string; objects: Map<string, StoredObject> }>();

  constructor(private readonly account: string) {}

  createBucket(bucket: string, owner = this.account): void {
    if (!this.#buckets.has(bucket)) this.#buckets.set(bucket, { owner, objects: new Map() });
  }

  /** The stored document, exactly as written (undefined: none). */
  policy(bucket: string): string | undefined {
    return this.#buckets.get(bucket)?.policy;
  }

  /** Write as someone else would (a test's concurrent writer). */
  setPolicy(bucket: string, policy: string | undefined): void {
    const b = this.#buckets.get(bucket);
    if (!b) throw new Error(`no bucket ${bucket}`);
    if (policy === undefined) delete b.policy;
    else b.policy = policy;
  }

  handler(): HttpHandler {
    return async (request) => {
      const url = new URL(request.url, 'http://localhost');
      const path = url.pathname.replace(/^\/+/, '').replace(/\/+$/, '');
      const bucket = decodeURIComponent(path);
      const resource = `/${bucket}`;
      // Objects (the SDK adds ?x-id=PutObject and the like): the state feed's origin.
      if (path.includes('/') && !url.searchParams.has('policy')) return this.#object(request, path);
      if (!path.includes('/') && request.method === 'GET' && url.searchParams.get('list-type') === '2')
        return this.#list(bucket, url, request);
      if (!path.includes('/') && request.method === 'GET' && url.searchParams.has('object-lock')) {
        const b = this.#buckets.get(bucket);
        return b
          ? s3Error(404, 'ObjectLockConfigurationNotFoundError', 'Object Lock configuration does not exist for this bucket', resource)
          : s3Error(404, 'NoSuchBucket', 'The specified bucket does not exist', resource);
      }
      if (!url.searchParams.has('policy') || path.includes('/'))
        return s3Error(501, 'NotImplemented', 'only the bucket policy API (?policy) and objects are served locally', resource);
      const b = this.#buckets.get(bucket);
      if (!b) return s3Error(404, 'NoSuchBucket', 'The specified bucket does not exist', resource);
      const expected = request.headers['x-amz-expected-bucket-owner'];
      if (typeof expected === 'string' && expected !== b.owner) return s3Error(403, 'AccessDenied', 'Access Denied', resource);
      switch (request.method) {
        case 'GET':
          return b.policy === undefined
            ? s3Error(404, 'NoSuchBucketPolicy', 'The bucket policy does not exist', resource)
            : { status: 200, body: b.policy };
        case 'PUT': {
          const problem = malformed(request.body);
          if (problem) return s3Error(400, 'MalformedPolicy', problem, resource);
          b.policy = request.body;
          return { status: 204, body: '' };
        }
        case 'DELETE':
          delete b.policy;
          return { status: 204, body: '' };
        default:
          return s3Error(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.', resource);
      }
    };
  }

  /** ListObjectsV2 (prefix, max-keys, continuation-token), for the ledger's exported chain heads. */
  #list(bucket: string, url: URL, request: Parameters<HttpHandler>[0]): HttpReply {
    const b = this.#buckets.get(bucket);
    if (!b) return s3Error(404, 'NoSuchBucket', 'The specified bucket does not exist', `/${bucket}`);
    const expected = request.headers['x-amz-expected-bucket-owner'];
    if (typeof expected === 'string' && expected !== b.owner) return s3Error(403, 'AccessDenied', 'Access Denied', `/${bucket}`);
    const prefix = url.searchParams.get('prefix') ?? '';
    const maxKeys = Math.min(1000, Number(url.searchParams.get('max-keys') ?? 1000) || 1000);
    const after = url.searchParams.get('continuation-token') ?? url.searchParams.get('start-after') ?? '';
    const keys = [...b.objects.keys()].filter((k) => k.startsWith(prefix) && k > after).sort();
    const page = keys.slice(0, maxKeys);
    const truncated = keys.length > page.length;
    const contents = page
      .map((k) => {
        const o = b.objects.get(k)!;
        return (
          `<Contents><Key>${xmlEscape(k)}</Key><LastModified>${new Date(o.lastModified).toISOString()}</LastModified>` +
          `<ETag>${xmlEscape(o.etag)}</ETag><Size>${Buffer.byteLength(o.body)}</Size><StorageClass>STANDARD</StorageClass></Contents>`
        );
      })
      .join('');
    return {
      status: 200,
      headers: { 'content-type': 'application/xml' },
      body:
        `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` +
        `<Name>${xmlEscape(bucket)}</Name><Prefix>${xmlEscape(prefix)}</Prefix><KeyCount>${page.length}</KeyCount>` +
        `<MaxKeys>${maxKeys}</MaxKeys><IsTruncated>${truncated}</IsTruncated>` +
        (truncated ? `<NextContinuationToken>${xmlEscape(page.at(-1)!)}</NextContinuationToken>` : '') +
        `${contents}</ListBucketResult>`,
    };
  }

  /** PutObject, GetObject, HeadObject (path-style), for the state feed's origin: body, Content-Type, Cache-Control, ETag, If-None-Match. */
  #object(request: Parameters<HttpHandler>[0], path: string): HttpReply {
    const slash = path.indexOf('/');
    const [bucket, key] = [decodeURIComponent(path.slice(0, slash)), decodeURIComponent(path.slice(slash + 1))];
    const b = this.#buckets.get(bucket);
    const resource = `/${bucket}/${key}`;
    if (!b) return s3Error(404, 'NoSuchBucket', 'The specified bucket does not exist', resource);
    const expected = request.headers['x-amz-expected-bucket-owner'];
    if (typeof expected === 'string' && expected !== b.owner) return s3Error(403, 'AccessDenied', 'Access Denied', resource);
    if (request.method === 'PUT') {
      const etag = `"${createHash('md5').update(request.body).digest('hex')}"`;
      const header = (name: string) => (typeof request.headers[name] === 'string' ? (request.headers[name] as string) : undefined);
      b.objects.set(key, {
        body: request.body,
        etag,
        contentType: header('content-type') ?? 'binary/octet-stream',
        cacheControl: header('cache-control'),
        lastModified: new Date().toUTCString(),
      });
      return { status: 200, headers: { etag }, body: '' };
    }
    if (request.method !== 'GET' && request.method !== 'HEAD')
      return s3Error(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.', resource);
    const o = b.objects.get(key);
    if (!o) return s3Error(404, 'NoSuchKey', 'The specified key does not exist.', resource);
    const headers: Record<string, string> = {
      etag: o.etag,
      'content-type': o.contentType,
      'last-modified': o.lastModified,
      ...(o.cacheControl ? { 'cache-control': o.cacheControl } : {}),
    };
    if (request.headers['if-none-match'] === o.etag) return { status: 304, headers, body: '' };
    return { status: 200, headers, body: request.method === 'HEAD' ? '' : o.body };
  }
}

interface StoredObject {
  body: string;
  etag: string;
  contentType: string;
  cacheControl: string | undefined;
  lastModified: string;
}

function malformed(body: string): string | undefined {
  if (Buffer.byteLength(body, 'utf8') > MAX_POLICY_BYTES) return 'Policies must be less than 20KB';
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    return "Policies must be valid JSON and the first byte must be '{'";
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return "Policies must be valid JSON and the first byte must be '{'";
  const statement = (doc as { Statement?: unknown }).Statement;
  if (statement === undefined || (Array.isArray(statement) && statement.length === 0)) return 'Missing required field Statement';
  return undefined;
}
