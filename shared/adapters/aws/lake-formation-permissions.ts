import {
  BatchGrantPermissionsCommand,
  BatchRevokePermissionsCommand,
  ListPermissionsCommand,
  type BatchPermissionsRequestEntry,
  type LakeFormationClient,
  type Condition,
  type Permission,
  type Resource,
} from '@aws-sdk/client-lakeformation';
import type { z } from '../../schemas/z.ts';
import type { LakeFormationAccessSchema } from '../../schemas/grants.ts';

/*
 * Lake Formation permissions of a dataset (wired through LakeFormationSystem in access-systems.ts):
 * listed for the configured resource, revoked in batches of at most 20 (BatchRevokePermissions'
 * limit), every entry's failure retried when it is transient and reported when it is not, and
 * restored with BatchGrantPermissions of exactly what was revoked.
 */

export type LakeFormationAccess = z.infer<typeof LakeFormationAccessSchema>;

/** One explicit permission entry, as ListPermissions returns it and as a snapshot keeps it for restore. */
export interface LakePermission {
  principal: string;
  resource: Resource;
  permissions: Permission[];
  permissionsWithGrantOption: Permission[];
  /** A condition on the grant (an expression): kept, so that a restore grants no more than there was. */
  condition?: Condition;
}

/** Lake Formation's group for "IAM decides": while it holds permissions, Lake Formation's own are moot. */
export const IAM_ALLOWED_PRINCIPALS = 'IAM_ALLOWED_PRINCIPALS';
/** BatchRevokePermissions and BatchGrantPermissions take at most 20 entries a call. */
export const BATCH_LIMIT = 20;
const TRANSIENT = new Set([
  'ConcurrentModificationException',
  'InternalServiceException',
  'OperationTimeoutException',
  'ThrottlingException',
]);

export type EntryOutcome =
  | { outcome: 'DONE'; entry: LakePermission }
  /** Revoking an implicit permission (a database creator's, an administrator's): "No permissions revoked". */
  | { outcome: 'IMPLICIT'; entry: LakePermission; error: string }
  | { outcome: 'FAILED'; entry: LakePermission; error: string };

/** What a revocation could not do, said in the incident instead of passing for success. */
export interface PlanOfRevocation {
  revoke: LakePermission[];
  owners: LakePermission[];
  /** IAMAllowedPrincipals entries: left in place (revoking them switches every principal to Lake Formation at once), reported. */
  moot: LakePermission[];
}

/** Which entries a revocation revokes: not the owners', not IAMAllowedPrincipals' (reported instead). */
export function planRevocation(entries: readonly LakePermission[], owners: readonly string[]): PlanOfRevocation {
  const plan: PlanOfRevocation = { revoke: [], owners: [], moot: [] };
  for (const entry of entries) {
    if (entry.principal === IAM_ALLOWED_PRINCIPALS) plan.moot.push(entry);
    else if (owners.includes(entry.principal)) plan.owners.push(entry);
    else plan.revoke.push(entry);
  }
  return plan;
}

/** The Lake Formation resource a dataset's access names. */
export function resourceOf(access: LakeFormationAccess): Resource {
  const CatalogId = access.catalogId;
  if (access.dataLocation) return { DataLocation: { CatalogId, ResourceArn: access.dataLocation } };
  if (access.table) return { Table: { CatalogId, DatabaseName: access.database!, Name: access.table } };
  return { Table: { CatalogId, DatabaseName: access.database!, TableWildcard: {} } };
}

export class LakeFormationPermissions {
  constructor(
    private readonly client: LakeFormationClient,
    private readonly options: { retries?: number } = {},
  ) {}

  /** Every explicit permission on the dataset's resource, page by page. */
  async list(access: LakeFormationAccess): Promise<LakePermission[]> {
    const out: LakePermission[] = [];
    let NextToken: string | undefined;
    do {
      const page = await this.client.send(
        new ListPermissionsCommand({ CatalogId: access.catalogId, Resource: resourceOf(access), MaxResults: 100, NextToken }),
      );
      for (const p of page.PrincipalResourcePermissions ?? []) {
        const principal = p.Principal?.DataLakePrincipalIdentifier;
        if (!principal || !p.Resource) continue;
        out.push({
          principal,
          resource: p.Resource,
          permissions: p.Permissions ?? [],
          permissionsWithGrantOption: p.PermissionsWithGrantOption ?? [],
          ...(p.Condition ? { condition: p.Condition } : {}),
        });
      }
      NextToken = page.NextToken || undefined;
    } while (NextToken);
    return out;
  }

  revoke(catalogId: string | undefined, entries: readonly LakePermission[]): Promise<EntryOutcome[]> {
    return this.#batched(entries, (Entries) => this.client.send(new BatchRevokePermissionsCommand({ CatalogId: catalogId, Entries })));
  }

  /** The restore: grant back exactly the snapshot's entries. */
  grant(catalogId: string | undefined, entries: readonly LakePermission[]): Promise<EntryOutcome[]> {
    return this.#batched(entries, (Entries) => this.client.send(new BatchGrantPermissionsCommand({ CatalogId: catalogId, Entries })));
  }

  /** Batches of 20 with an Id per entry; an entry that fails transiently goes again (up to `retries` times), the rest are reported. */
  async #batched(
    entries: readonly LakePermission[],
    send: (
      entries: BatchPermissionsRequestEntry[],
    ) => Promise<{ Failures?: { RequestEntry?: { Id?: string | undefined }; Error?: { ErrorCode?: string; ErrorMessage?: string } }[] }>,
  ): Promise<EntryOutcome[]> {
    const outcomes = new Map<number, EntryOutcome>();
    let pending = entries.map((entry, index) => ({ entry, index }));
    for (let round = 0; pending.length && round <= (this.options.retries ?? 2); round++) {
      const again: typeof pending = [];
      for (let i = 0; i < pending.length; i += BATCH_LIMIT) {
        const chunk = pending.slice(i, i + BATCH_LIMIT);
        let Failures: { RequestEntry?: { Id?: string | undefined }; Error?: { ErrorCode?: string; ErrorMessage?: string } }[];
        try {
          ({ Failures = [] } = await send(
            chunk.map(({ entry, index }) => ({
              Id: String(index),
              Principal: { DataLakePrincipalIdentifier: entry.principal },
              Resource: entry.resource,
              Permissions: entry.permissions,
              PermissionsWithGrantOption: entry.permissionsWithGrantOption,
              ...(entry.condition ? { Condition: entry.condition } : {}),
            })),
          ));
        } catch (error) {
          // The whole call failed: its entries go again if that is transient, and are reported if not; the other chunks go on.
          const name = (error as { name?: string }).name ?? 'Error';
          if (TRANSIENT.has(name)) again.push(...chunk);
          else
            for (const item of chunk)
              outcomes.set(item.index, {
                outcome: 'FAILED',
                entry: item.entry,
                error: `${name}: ${(error as Error).message}`.slice(0, 500),
              });
          continue;
        }
        if (Failures.some((f) => !chunk.some((c) => String(c.index) === f.RequestEntry?.Id))) {
          // A failure that names no entry of the call: none of them can be taken for done.
          for (const item of chunk)
            outcomes.set(item.index, {
              outcome: 'FAILED',
              entry: item.entry,
              error: 'a failure named no entry of its call; state unknown',
            });
          continue;
        }
        const failed = new Map(Failures.map((f) => [f.RequestEntry?.Id, f.Error]));
        for (const item of chunk) {
          const error = failed.get(String(item.index));
          if (!failed.has(String(item.index))) outcomes.set(item.index, { outcome: 'DONE', entry: item.entry });
          else if (TRANSIENT.has(error?.ErrorCode ?? '')) again.push(item);
          else {
            const message = `${error?.ErrorCode ?? 'Error'}: ${error?.ErrorMessage ?? 'no message'}`.slice(0, 500);
            outcomes.set(
              item.index,
              /no permissions revoked/i.test(error?.ErrorMessage ?? '')
                ? { outcome: 'IMPLICIT', entry: item.entry, error: message }
                : { outcome: 'FAILED', entry: item.entry, error: message },
            );
          }
        }
      }
      pending = again;
    }
    for (const { entry, index } of pending)
      outcomes.set(index, { outcome: 'FAILED', entry, error: 'still failing transiently after every retry' });
    return entries.map((_, index) => outcomes.get(index)!);
  }
}
