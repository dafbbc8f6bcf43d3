import { createHash } from 'node:crypto';
import type { DatasetConfig, Permission as GrantPermission } from '../../schemas/grants.ts';
import type { AccessEntry, AccessSystem, AccessSystemName, NotRevoked } from '../../grants/ports.ts';
import { PolicyTooLargeError, UnreadablePolicyError } from '../../grants/quarantine-policy.ts';
import type { BucketPolicyQuarantine } from './bucket-policy-quarantine.ts';
import {
  IAM_ALLOWED_PRINCIPALS,
  planRevocation,
  type LakeFormationPermissions,
  type LakePermission,
} from './lake-formation-permissions.ts';
import { planGrantRevocation, type AccessGrant, type S3AccessGrants } from './s3-access-grants.ts';

/*
 * The AWS access systems a dataset maps to (datasets[].access), as AccessSystems: what the
 * revoker lists, revokes and restores through RoutedGrantBackend. The API work is the adapters'
 * (bucket-policy-quarantine.ts, lake-formation-permissions.ts, s3-access-grants.ts); here each
 * entry gets a stable key, its owner flag, and what cannot be revoked is said, not hidden.
 */

abstract class MappedSystem<A> implements AccessSystem {
  abstract readonly name: AccessSystemName;
  abstract readonly perIncident: boolean;
  readonly #datasets: Map<string, { access: A; owners: string[] }>;
  constructor(datasets: readonly DatasetConfig[], pick: (d: DatasetConfig) => A | undefined) {
    this.#datasets = new Map(
      datasets.flatMap((d) => {
        const access = pick(d);
        return access === undefined ? [] : [[d.datasetId, { access, owners: d.owners }] as const];
      }),
    );
  }
  covers(datasetId: string): boolean {
    return this.#datasets.has(datasetId);
  }
  protected mapping(datasetId: string): { access: A; owners: string[] } {
    const m = this.#datasets.get(datasetId);
    if (!m) throw new Error(`dataset ${datasetId} has no ${this.name} mapping`);
    return m;
  }
  abstract entries(datasetId: string): Promise<(AccessEntry & { heldBy?: string[] })[]>;
  abstract revoke(datasetId: string, entry: AccessEntry, incidentId: string): Promise<'REVOKED' | 'ALREADY' | 'GONE' | NotRevoked>;
  abstract restore(
    datasetId: string,
    entry: AccessEntry,
    incidentId: string,
  ): Promise<{ outcome: 'RESTORED' | 'SKIPPED'; reason?: string }>;
}

type BucketPolicyMapping = NonNullable<DatasetConfig['access']['bucketPolicy']>;

/**
 * The quarantine: one entry per dataset (its prefix of its bucket); revoking it adds the
 * incident's Deny statements, restoring it removes exactly those. Each incident's statements are
 * its own (by Sid), so incidents never share the entry: `heldBy` says whose are in force.
 */
export class BucketPolicySystem extends MappedSystem<BucketPolicyMapping> {
  readonly name = 'bucketPolicy' as const;
  readonly perIncident = true;
  constructor(
    datasets: readonly DatasetConfig[],
    private readonly quarantine: BucketPolicyQuarantine,
    /** Besides each dataset's owners: the killswitch roles and break-glass (config quarantine.exemptRoleArns). */
    private readonly exempt: readonly string[],
    private readonly partition = 'aws',
    /** Killswitch's own writers of one bucket's policy take turns (DynamoLeases): PutBucketPolicy replaces the whole document. */
    private readonly exclusive: <T>(bucket: string, work: () => Promise<T>) => Promise<T> = (_b, work) => work(),
  ) {
    super(datasets, (d) => d.access.bucketPolicy);
  }

  async entries(datasetId: string) {
    const { access } = this.mapping(datasetId);
    let heldBy: string[];
    try {
      heldBy = await this.quarantine.held(access.bucket);
    } catch (error) {
      if (!(error instanceof UnreadablePolicyError)) throw error;
      return [{ ...this.#entry(access), heldBy: [], notRevocable: error.message }];
    }
    return [{ ...this.#entry(access), heldBy }];
  }

  async revoke(datasetId: string, _entry: AccessEntry, incidentId: string): Promise<'REVOKED' | 'ALREADY' | NotRevoked> {
    const { access, owners } = this.mapping(datasetId);
    try {
      const done = await this.exclusive(`bucket-policy#${access.bucket}`, () =>
        this.quarantine.apply({
          incidentId,
          bucket: access.bucket,
          prefix: access.prefix,
          exempt: [...owners, ...this.exempt],
          partition: this.partition,
        }),
      );
      return done === 'ADDED' ? 'REVOKED' : 'ALREADY';
    } catch (error) {
      if (error instanceof PolicyTooLargeError || error instanceof UnreadablePolicyError) return { notRevoked: error.message };
      throw error;
    }
  }

  async restore(datasetId: string, _entry: AccessEntry, incidentId: string) {
    const { access } = this.mapping(datasetId);
    const released = await this.exclusive(`bucket-policy#${access.bucket}`, () => this.quarantine.release(access.bucket, incidentId));
    return released === 'REMOVED'
      ? { outcome: 'RESTORED' as const }
      : { outcome: 'RESTORED' as const, reason: 'the quarantine statement was no longer in the policy' };
  }

  #entry(access: BucketPolicyMapping): AccessEntry {
    const where = `s3://${access.bucket}/${access.prefix}`;
    return {
      key: 'quarantine',
      principal: '*',
      permission: 'READ',
      entry: JSON.stringify({ bucket: access.bucket, prefix: access.prefix }),
      label: `bucket-policy quarantine of ${where}`,
      owner: false,
    };
  }
}

type LakeFormationMapping = NonNullable<DatasetConfig['access']['lakeFormation']>;

/** Lake Formation's explicit permission entries on the dataset's resource; the key is a digest of the whole entry. */
export class LakeFormationSystem extends MappedSystem<LakeFormationMapping> {
  readonly name = 'lakeFormation' as const;
  readonly perIncident = false;
  constructor(
    datasets: readonly DatasetConfig[],
    private readonly permissions: LakeFormationPermissions,
  ) {
    super(datasets, (d) => d.access.lakeFormation);
  }

  async entries(datasetId: string): Promise<AccessEntry[]> {
    const { access, owners } = this.mapping(datasetId);
    const plan = planRevocation(await this.permissions.list(access), owners);
    return [
      ...plan.revoke.map((p) => lakeEntry(p, false)),
      ...plan.owners.map((p) => lakeEntry(p, true)),
      ...plan.moot.map((p) => ({
        ...lakeEntry(p, false),
        notRevocable:
          `${IAM_ALLOWED_PRINCIPALS} holds ${p.permissions.join(', ')}: IAM decides access to this resource, not Lake Formation; ` +
          'revoking it would switch every principal to Lake Formation at once (the bucket-policy quarantine is what cuts access)',
      })),
    ];
  }

  async revoke(datasetId: string, entry: AccessEntry): Promise<'REVOKED' | 'GONE' | NotRevoked> {
    const { access } = this.mapping(datasetId);
    const [outcome] = await this.permissions.revoke(access.catalogId, [JSON.parse(entry.entry) as LakePermission]);
    if (outcome!.outcome === 'DONE') return 'REVOKED';
    // "No permissions revoked": gone meanwhile (an earlier try, someone else), or implicit (an admin's, a creator's).
    if (outcome!.outcome === 'IMPLICIT' && !(await this.#live(datasetId, entry.key))) return 'GONE';
    if (/EntityNotFound/.test(outcome!.error)) return 'GONE';
    return { notRevoked: `Lake Formation did not revoke ${entry.label}: ${outcome!.error}` };
  }

  async restore(datasetId: string, entry: AccessEntry) {
    const { access } = this.mapping(datasetId);
    if (await this.#live(datasetId, entry.key)) return { outcome: 'RESTORED' as const, reason: 'the same permission was already in force' };
    const [outcome] = await this.permissions.grant(access.catalogId, [JSON.parse(entry.entry) as LakePermission]);
    if (outcome!.outcome === 'DONE') return { outcome: 'RESTORED' as const };
    if (/transiently/.test(outcome!.error)) throw new Error(`Lake Formation: granting back ${entry.label}: ${outcome!.error}`);
    return { outcome: 'SKIPPED' as const, reason: `Lake Formation refused to grant it back (changed since?): ${outcome!.error}` };
  }

  async #live(datasetId: string, key: string): Promise<boolean> {
    return (await this.entries(datasetId)).some((e) => e.key === key);
  }
}

/** The ranks of Lake Formation permissions, for the registry-shaped view of an entry. */
function lakeRank(p: LakePermission): GrantPermission {
  if (p.permissionsWithGrantOption.length || p.permissions.some((x) => x === 'ALL' || x === 'DROP' || x === 'ALTER')) return 'ADMIN';
  if (p.permissions.some((x) => x === 'INSERT' || x === 'DELETE' || x === 'DATA_LOCATION_ACCESS' || x === 'CREATE_TABLE')) return 'WRITE';
  return 'READ';
}

function lakeEntry(p: LakePermission, owner: boolean): AccessEntry {
  const canonical = canonicalJson({
    ...p,
    permissions: [...p.permissions].sort(),
    permissionsWithGrantOption: [...p.permissionsWithGrantOption].sort(),
  });
  const r = p.resource;
  const what = r.Table
    ? `table ${r.Table.DatabaseName}.${r.Table.Name ?? '*'}`
    : r.TableWithColumns
      ? `columns of ${r.TableWithColumns.DatabaseName}.${r.TableWithColumns.Name}`
      : r.DataLocation
        ? `data location ${r.DataLocation.ResourceArn}`
        : r.Database
          ? `database ${r.Database.Name}`
          : 'a resource';
  return {
    key: `lf-${createHash('sha256').update(canonical).digest('hex').slice(0, 40)}`,
    principal: p.principal,
    permission: lakeRank(p),
    entry: canonical,
    label: `Lake Formation ${p.permissions.join('+')} on ${what} for ${p.principal}`.slice(0, 500),
    owner,
  };
}

/** JSON with object keys sorted at every level: one text per entry, whatever order the API answered in. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

type AccessGrantsMapping = NonNullable<DatasetConfig['access']['s3AccessGrants']>;

/** The S3 Access Grants instance's grants that reach the dataset; the key is the grant's id. */
export class S3AccessGrantsSystem extends MappedSystem<AccessGrantsMapping> {
  readonly name = 's3AccessGrants' as const;
  readonly perIncident = false;
  constructor(
    datasets: readonly DatasetConfig[],
    private readonly grants: S3AccessGrants,
  ) {
    super(datasets, (d) => d.access.s3AccessGrants);
  }

  async entries(datasetId: string): Promise<AccessEntry[]> {
    const { access, owners } = this.mapping(datasetId);
    const plan = planGrantRevocation(await this.grants.list(access), owners);
    // Equal grants (the same grantee, permission and place) are one entry: revoking it deletes every one of them.
    const byKey = new Map<string, AccessEntry>();
    for (const e of [...plan.revoke.map((g) => grantEntry(g, false)), ...plan.owners.map((g) => grantEntry(g, true))])
      if (!byKey.has(e.key)) byKey.set(e.key, e);
    return [...byKey.values()];
  }

  /**
   * Delete every grant equal to the entry, whatever its id: a restore creates a grant again under
   * a new id, and a hold taken meanwhile must take that one out too.
   */
  async revoke(datasetId: string, entry: AccessEntry): Promise<'REVOKED' | 'GONE'> {
    const { access } = this.mapping(datasetId);
    const grant = JSON.parse(entry.entry) as AccessGrant;
    const equal = (await this.grants.list(access)).filter((g) => sameGrant(g, grant));
    let deleted = false;
    for (const g of equal) deleted = (await this.grants.revoke(access.accountId, g)) === 'REVOKED' || deleted;
    return deleted ? 'REVOKED' : 'GONE';
  }

  async restore(datasetId: string, entry: AccessEntry) {
    const { access } = this.mapping(datasetId);
    const grant = JSON.parse(entry.entry) as AccessGrant;
    // Created again by an earlier try (or by someone): never a duplicate.
    const same = (await this.grants.list(access)).find((g) => sameGrant(g, grant));
    if (same) return { outcome: 'RESTORED' as const, reason: `an equal grant is in force (${same.accessGrantId})` };
    try {
      const id = await this.grants.restore(access.accountId, grant);
      return { outcome: 'RESTORED' as const, reason: `created again as ${id} (was ${grant.accessGrantId})` };
    } catch (error) {
      const name = (error as { name?: string }).name ?? '';
      if (/NotFound|NoSuch|InvalidRequest/.test(name))
        return { outcome: 'SKIPPED' as const, reason: `S3 Access Grants refused to create it again (changed since?): ${name}` };
      throw error;
    }
  }
}

const sameGrant = (a: AccessGrant, b: AccessGrant): boolean =>
  a.grantee.GranteeType === b.grantee.GranteeType &&
  a.grantee.GranteeIdentifier === b.grantee.GranteeIdentifier &&
  a.permission === b.permission &&
  a.locationId === b.locationId &&
  (a.subPrefix ?? '') === (b.subPrefix ?? '') &&
  (a.applicationArn ?? '') === (b.applicationArn ?? '');

function grantEntry(g: AccessGrant, owner: boolean): AccessEntry {
  // Keyed by what the grant gives, not its id: a grant created again by a restore is the same entry.
  const what = canonicalJson({
    grantee: g.grantee,
    permission: g.permission,
    locationId: g.locationId,
    subPrefix: g.subPrefix ?? '',
    applicationArn: g.applicationArn ?? '',
  });
  return {
    key: `ag-${createHash('sha256').update(what).digest('hex').slice(0, 40)}`,
    principal: g.grantee.GranteeIdentifier ?? '(unnamed grantee)',
    permission: g.permission === 'READ' ? 'READ' : 'WRITE',
    entry: JSON.stringify(g),
    label:
      `S3 Access Grant ${g.accessGrantId}: ${g.permission} on ${g.grantScope ?? `${g.locationId}/${g.subPrefix ?? ''}`} for ${g.grantee.GranteeType} ${g.grantee.GranteeIdentifier}`.slice(
        0,
        500,
      ),
    owner,
  };
}
