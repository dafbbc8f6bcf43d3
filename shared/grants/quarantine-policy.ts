import { KillSwitchError } from '../domain/errors.ts';

/*
 * The bucket-policy quarantine (issue 16), as a pure function of the bucket policy document: one
 * Deny statement per incident, known by its Sid, added and removed without touching anything
 * else in the document. `PutBucketPolicy` replaces the whole document and S3 has no conditional
 * write for it, so the adapter reads, applies one of these functions, writes, and re-reads to
 * verify; these functions are what make that read-modify-write safe to repeat and to race.
 */

/** Every quarantine statement's Sid starts so: `killswitch-quarantine-<incident id>` (S3 takes hyphens in Sids; IAM policies do not). */
export const QUARANTINE_SID_PREFIX = 'killswitch-quarantine-';
/** S3's limit on a bucket policy (Amazon S3 user guide, "Bucket policies"): 20 KB, of the document as sent (written compact here). */
export const BUCKET_POLICY_MAX_BYTES = 20 * 1024;

/**
 * The object reads a quarantine denies. A Deny in the bucket policy overrides every Allow,
 * including sessions already vended by S3 Access Grants or Lake Formation, which revoking the
 * grants alone cannot end.
 */
export const QUARANTINED_ACTIONS = [
  's3:GetObject',
  's3:GetObjectVersion',
  's3:GetObjectAttributes',
  's3:GetObjectVersionAttributes',
  's3:GetObjectTagging',
  's3:GetObjectVersionTagging',
  's3:RestoreObject',
  's3:GetObjectAcl',
  's3:GetObjectVersionAcl',
  // Replication reads: an existing or new replication rule must not copy the data out meanwhile.
  's3:GetObjectVersionForReplication',
  's3:ReplicateObject',
] as const;

export interface Quarantine {
  incidentId: string;
  bucket: string;
  /** Object key prefix; '' is the whole bucket. */
  prefix: string;
  /** Principal ARNs still allowed to read (dataset owners, killswitch, break-glass); `arn:…:role/name` matches every session of the role. */
  exempt: readonly string[];
  partition?: string;
}

export interface PolicyStatement {
  Sid?: string;
  [key: string]: unknown;
}

interface PolicyDocument {
  Version?: string;
  Statement: PolicyStatement[];
  [key: string]: unknown;
}

/** The policy would exceed S3's limit: nothing is written; the operators must make room (or quarantine by other means). */
export class PolicyTooLargeError extends KillSwitchError {
  constructor(bucket: string, bytes: number) {
    super(
      `bucket policy of ${bucket}: the quarantine statement would make it ${bytes} bytes, over S3's limit of ${BUCKET_POLICY_MAX_BYTES}; nothing was changed`,
      'CONFLICT',
    );
  }
}

/** The bucket's current policy is not a policy document killswitch can edit without losing something. */
export class UnreadablePolicyError extends KillSwitchError {
  constructor(bucket: string, why: string) {
    super(`bucket policy of ${bucket} cannot be edited safely: ${why}; nothing was changed`, 'CONFLICT');
  }
}

export const quarantineSid = (incidentId: string): string => `${QUARANTINE_SID_PREFIX}${incidentId}`;
const listSid = (incidentId: string): string => `${quarantineSid(incidentId)}-list`;

/**
 * The incident's two statements: object reads under the prefix, and listing it (`s3:prefix`
 * condition; a listing with a shorter prefix can still show key names, so a quarantine of a
 * whole bucket, prefix '', denies every listing).
 */
export function quarantineStatements(q: Quarantine): PolicyStatement[] {
  const partition = q.partition ?? 'aws';
  const except = q.exempt.length ? { ArnNotLike: { 'aws:PrincipalArn': [...new Set(q.exempt)].sort() } } : {};
  return [
    {
      Sid: quarantineSid(q.incidentId),
      Effect: 'Deny',
      Principal: '*',
      Action: [...QUARANTINED_ACTIONS],
      Resource: `arn:${partition}:s3:::${q.bucket}/${q.prefix}*`,
      ...(q.exempt.length ? { Condition: except } : {}),
    },
    {
      Sid: listSid(q.incidentId),
      Effect: 'Deny',
      Principal: '*',
      Action: ['s3:ListBucket', 's3:ListBucketVersions'],
      Resource: `arn:${partition}:s3:::${q.bucket}`,
      ...(q.prefix || q.exempt.length
        ? { Condition: { ...(q.prefix ? { StringLike: { 's3:prefix': [`${q.prefix}*`] } } : {}), ...except } }
        : {}),
    },
  ];
}

function parse(bucket: string, policy: string | undefined): PolicyDocument {
  if (policy === undefined || policy.trim() === '') return { Version: '2012-10-17', Statement: [] };
  // JSON.parse keeps the last of duplicate keys: such a document cannot be rewritten without changing it.
  if (/"(\w+)"\s*:[^{}]*?,\s*"\1"\s*:/.test(policy)) throw new UnreadablePolicyError(bucket, 'it has a duplicate key');
  let doc: unknown;
  try {
    doc = JSON.parse(policy);
  } catch {
    throw new UnreadablePolicyError(bucket, 'it is not JSON');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new UnreadablePolicyError(bucket, 'it is not a JSON object');
  const { Statement } = doc as { Statement?: unknown };
  const statements = Statement === undefined ? [] : Array.isArray(Statement) ? Statement : [Statement];
  if (!statements.every((s) => typeof s === 'object' && s !== null && !Array.isArray(s)))
    throw new UnreadablePolicyError(bucket, 'a statement is not an object');
  return { ...(doc as Record<string, unknown>), Statement: statements as PolicyStatement[] };
}

const render = (doc: PolicyDocument): string => JSON.stringify(doc);

/**
 * The policy with the incident's quarantine statements, and whether that is a change. Idempotent by
 * Sid (an existing statement with one of the Sids is replaced by the current one, so the exemptions
 * stay as configured); every other statement and top-level field is kept as it was, in its place.
 */
export function addQuarantine(policy: string | undefined, q: Quarantine): { policy: string; changed: boolean } {
  const doc = parse(q.bucket, policy);
  const wanted = quarantineStatements(q);
  const same = (a: PolicyStatement | undefined, b: PolicyStatement) => a !== undefined && JSON.stringify(a) === JSON.stringify(b);
  if (
    wanted.every((w) =>
      same(
        doc.Statement.find((s) => s.Sid === w.Sid),
        w,
      ),
    )
  )
    return { policy: render(doc), changed: false };
  const bySid = new Map(wanted.map((w) => [w.Sid, w]));
  const statements = doc.Statement.map((s) => (s.Sid !== undefined && bySid.has(s.Sid) ? bySid.get(s.Sid)! : s));
  for (const w of wanted) if (!doc.Statement.some((s) => s.Sid === w.Sid)) statements.push(w);
  // No Version is added to a policy that had none: it would change what others' statements mean (policy variables).
  const rendered = render({ ...doc, Statement: statements });
  const bytes = Buffer.byteLength(rendered, 'utf8');
  if (bytes > BUCKET_POLICY_MAX_BYTES) throw new PolicyTooLargeError(q.bucket, bytes);
  return { policy: rendered, changed: true };
}

/**
 * The policy without the incident's quarantine statements (exactly those), and whether that is
 * a change. `policy: undefined` when nothing is left: the adapter deletes the bucket policy
 * rather than write an empty one (S3 refuses a policy with no statements).
 */
export function removeQuarantine(
  bucket: string,
  policy: string | undefined,
  incidentId: string,
): { policy: string | undefined; changed: boolean } {
  if (policy === undefined) return { policy: undefined, changed: false };
  const doc = parse(bucket, policy);
  const sids = new Set([quarantineSid(incidentId), listSid(incidentId)]);
  const kept = doc.Statement.filter((s) => s.Sid === undefined || !sids.has(s.Sid));
  if (kept.length === doc.Statement.length) return { policy, changed: false };
  return { policy: kept.length ? render({ ...doc, Statement: kept }) : undefined, changed: true };
}

/** The incidents whose quarantine statements the policy holds. */
export function quarantinesIn(bucket: string, policy: string | undefined): string[] {
  return parse(bucket, policy)
    .Statement.map((s) => s.Sid)
    .filter((sid): sid is string => typeof sid === 'string' && sid.startsWith(QUARANTINE_SID_PREFIX) && !sid.endsWith('-list'))
    .map((sid) => sid.slice(QUARANTINE_SID_PREFIX.length));
}
