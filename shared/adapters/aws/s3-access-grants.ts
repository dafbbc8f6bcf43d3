import {
  CreateAccessGrantCommand,
  DeleteAccessGrantCommand,
  ListAccessGrantsCommand,
  type Grantee,
  type Permission,
  type S3ControlClient,
} from '@aws-sdk/client-s3-control';
import type { z } from '../../schemas/z.ts';
import type { S3AccessGrantsAccessSchema } from '../../schemas/grants.ts';

/*
 * S3 Access Grants of a dataset (wired through S3AccessGrantsSystem in access-systems.ts): the
 * instance's grants whose scope overlaps the dataset's prefix, deleted for every grantee but the
 * owners (IAM principals, directory users and groups alike), each kept whole in the snapshot, and
 * restored by creating it again (a new id, recorded against the old). No emulator has Access
 * Grants: tested with aws-sdk-client-mock on the shapes the S3 Control API reference documents.
 */

export type S3AccessGrantsAccess = z.infer<typeof S3AccessGrantsAccessSchema>;

/** One grant, whole: what a snapshot keeps and a restore creates again. */
export interface AccessGrant {
  accessGrantId: string;
  grantee: Grantee;
  permission: Permission;
  locationId: string;
  subPrefix?: string;
  grantScope?: string;
  applicationArn?: string;
}

/** The S3 URI prefix a scope or location names, without the trailing wildcard. */
const stem = (scope: string): string => scope.replace(/\*+$/, '');
/** Two S3 prefixes overlap when one contains the other. */
const overlaps = (a: string, b: string): boolean => a.startsWith(b) || b.startsWith(a);

/** Whether a grant reaches the dataset: same location (by id) with an overlapping sub-prefix, or an overlapping scope. */
export function reachesDataset(grant: AccessGrant, access: S3AccessGrantsAccess): boolean {
  if (access.locationId !== undefined)
    return grant.locationId === access.locationId && overlaps(stem(grant.subPrefix ?? ''), access.prefix);
  // "s3://bucket" and "s3://bucket/*" alike: the bucket ends at a "/", the prefix follows it.
  const dataset = `${stem(access.locationScope!).replace(/\/*$/, '/')}${access.prefix}`;
  return grant.grantScope !== undefined && overlaps(stem(grant.grantScope), dataset);
}

/** Which grants a revocation deletes: every grantee's but the owners' (an IAM principal ARN, or a directory user or group id). */
export function planGrantRevocation(
  grants: readonly AccessGrant[],
  owners: readonly string[],
): { revoke: AccessGrant[]; owners: AccessGrant[] } {
  const isOwner = (g: AccessGrant) => g.grantee.GranteeIdentifier !== undefined && owners.includes(g.grantee.GranteeIdentifier);
  return { revoke: grants.filter((g) => !isOwner(g)), owners: grants.filter(isOwner) };
}

export class S3AccessGrants {
  constructor(private readonly client: S3ControlClient) {}

  /** The grants that reach the dataset, every page (up to 1000 a page). */
  async list(access: S3AccessGrantsAccess): Promise<AccessGrant[]> {
    const out: AccessGrant[] = [];
    let NextToken: string | undefined;
    do {
      const page = await this.client.send(new ListAccessGrantsCommand({ AccountId: access.accountId, MaxResults: 1000, NextToken }));
      for (const g of page.AccessGrantsList ?? []) {
        if (!g.AccessGrantId || !g.Grantee || !g.Permission || !g.AccessGrantsLocationId) continue;
        const grant: AccessGrant = {
          accessGrantId: g.AccessGrantId,
          grantee: { GranteeType: g.Grantee.GranteeType, GranteeIdentifier: g.Grantee.GranteeIdentifier },
          permission: g.Permission,
          locationId: g.AccessGrantsLocationId,
          ...(g.AccessGrantsLocationConfiguration?.S3SubPrefix !== undefined
            ? { subPrefix: g.AccessGrantsLocationConfiguration.S3SubPrefix }
            : {}),
          ...(g.GrantScope !== undefined ? { grantScope: g.GrantScope } : {}),
          ...(g.ApplicationArn !== undefined ? { applicationArn: g.ApplicationArn } : {}),
        };
        if (reachesDataset(grant, access)) out.push(grant);
      }
      NextToken = page.NextToken || undefined;
    } while (NextToken);
    return out;
  }

  /** Delete the grant. GONE: it no longer existed (deleted by someone else, or by an earlier try). */
  async revoke(accountId: string, grant: AccessGrant): Promise<'REVOKED' | 'GONE'> {
    try {
      await this.client.send(new DeleteAccessGrantCommand({ AccountId: accountId, AccessGrantId: grant.accessGrantId }));
      return 'REVOKED';
    } catch (error) {
      // Only the grant's own absence: NoSuchAccessGrantsInstance (a wrong account) is an error, not done.
      if ((error as { name?: string }).name === 'NoSuchAccessGrant') return 'GONE';
      throw error;
    }
  }

  /** Create the grant again as it was; its new id, to record against the old one. */
  async restore(accountId: string, grant: AccessGrant): Promise<string> {
    const out = await this.client.send(
      new CreateAccessGrantCommand({
        AccountId: accountId,
        AccessGrantsLocationId: grant.locationId,
        ...(grant.subPrefix !== undefined ? { AccessGrantsLocationConfiguration: { S3SubPrefix: grant.subPrefix } } : {}),
        Grantee: grant.grantee,
        Permission: grant.permission,
        ...(grant.applicationArn !== undefined ? { ApplicationArn: grant.applicationArn } : {}),
      }),
    );
    if (!out.AccessGrantId) throw new Error(`CreateAccessGrant returned no id for the grant that was ${grant.accessGrantId}`);
    return out.AccessGrantId;
  }
}
