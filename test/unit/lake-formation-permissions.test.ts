import { beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import {
  BatchGrantPermissionsCommand,
  BatchRevokePermissionsCommand,
  LakeFormationClient,
  ListPermissionsCommand,
  type BatchPermissionsRequestEntry,
} from '@aws-sdk/client-lakeformation';
import {
  IAM_ALLOWED_PRINCIPALS,
  LakeFormationPermissions,
  planRevocation,
  resourceOf,
  type LakePermission,
} from '#shared/adapters/aws/lake-formation-permissions.ts';

/*
 * Lake Formation on the shapes its API reference documents, where moto cannot go: ListPermissions
 * pages (moto has no pagination), BatchRevokePermissions' 20-entry limit and its per-entry
 * Failures (moto reports none), the "No permissions revoked" of implicit permissions.
 */

const table = { database: 'mci_training', table: 'transcripts' };
const entry = (principal: string, permissions = ['SELECT']): LakePermission => ({
  principal,
  resource: resourceOf(table),
  permissions: permissions as LakePermission['permissions'],
  permissionsWithGrantOption: [],
});
const role = (n: number) => `arn:aws:iam::111111111111:role/reader-${n}`;

describe('Lake Formation permissions (aws-sdk-client-mock)', () => {
  const client = new LakeFormationClient({ region: 'eu-west-1' });
  const mock = mockClient(client);
  beforeEach(() => mock.reset());

  it("names the dataset's resource: a table, every table of a database, or a data location", () => {
    expect(resourceOf(table)).toEqual({ Table: { CatalogId: undefined, DatabaseName: 'mci_training', Name: 'transcripts' } });
    expect(resourceOf({ database: 'mci_training', catalogId: '111111111111' })).toEqual({
      Table: { CatalogId: '111111111111', DatabaseName: 'mci_training', TableWildcard: {} },
    });
    expect(resourceOf({ dataLocation: 'arn:aws:s3:::mci-transcripts/raw' })).toEqual({
      DataLocation: { CatalogId: undefined, ResourceArn: 'arn:aws:s3:::mci-transcripts/raw' },
    });
  });

  it("lists every page of the resource's permissions", async () => {
    mock
      .on(ListPermissionsCommand)
      .resolvesOnce({
        PrincipalResourcePermissions: [
          { Principal: { DataLakePrincipalIdentifier: role(1) }, Resource: resourceOf(table), Permissions: ['SELECT'] },
        ],
        NextToken: 'p2',
      })
      .resolvesOnce({
        PrincipalResourcePermissions: [
          {
            Principal: { DataLakePrincipalIdentifier: role(2) },
            Resource: resourceOf(table),
            Permissions: ['SELECT', 'DESCRIBE'],
            PermissionsWithGrantOption: ['SELECT'],
          },
        ],
      });
    const listed = await new LakeFormationPermissions(client).list(table);
    expect(listed.map((p) => p.principal)).toEqual([role(1), role(2)]);
    expect(listed[1]).toMatchObject({ permissions: ['SELECT', 'DESCRIBE'], permissionsWithGrantOption: ['SELECT'] });
    expect(mock.commandCalls(ListPermissionsCommand)[1]!.args[0].input).toMatchObject({ NextToken: 'p2', Resource: resourceOf(table) });
  });

  it('leaves owners alone and reports IAMAllowedPrincipals instead of revoking it', () => {
    const plan = planRevocation(
      [entry(role(1)), entry('arn:aws:iam::111111111111:role/mci-owners'), entry('IAM_ALLOWED_PRINCIPALS', ['ALL'])],
      ['arn:aws:iam::111111111111:role/mci-owners'],
    );
    expect(plan.revoke.map((e) => e.principal)).toEqual([role(1)]);
    expect(plan.owners).toHaveLength(1);
    // Spelled as the API spells it (not the console's "IAMAllowedPrincipals").
    expect(plan.moot.map((e) => e.principal)).toEqual([IAM_ALLOWED_PRINCIPALS]);
    expect(IAM_ALLOWED_PRINCIPALS).toBe('IAM_ALLOWED_PRINCIPALS');
  });

  it('revokes in batches of at most 20, retries an entry that failed transiently, and reports the rest, per entry', async () => {
    const entries = Array.from({ length: 45 }, (_, i) => entry(role(i)));
    let calls = 0;
    mock.on(BatchRevokePermissionsCommand).callsFake((input: { Entries: BatchPermissionsRequestEntry[] }) => {
      calls++;
      const failures = [];
      for (const e of input.Entries) {
        // Entry 3 fails once with a concurrent change; entry 7 is an implicit permission; entry 30 is refused.
        if (e.Id === '3' && calls === 1)
          failures.push({ RequestEntry: e, Error: { ErrorCode: 'ConcurrentModificationException', ErrorMessage: 'try again' } });
        if (e.Id === '7')
          failures.push({
            RequestEntry: e,
            Error: {
              ErrorCode: 'InvalidInputException',
              ErrorMessage: 'No permissions revoked. Grantee has no permissions and no grantable permissions on resource',
            },
          });
        if (e.Id === '30')
          failures.push({
            RequestEntry: e,
            Error: { ErrorCode: 'AccessDeniedException', ErrorMessage: 'Insufficient Lake Formation permission(s)' },
          });
      }
      return { Failures: failures };
    });
    const outcomes = await new LakeFormationPermissions(client).revoke('111111111111', entries);
    const sizes = mock.commandCalls(BatchRevokePermissionsCommand).map((c) => c.args[0].input.Entries!.length);
    expect(sizes).toEqual([20, 20, 5, 1]);
    expect(mock.commandCalls(BatchRevokePermissionsCommand)[3]!.args[0].input.Entries![0]).toMatchObject({
      Id: '3',
      Principal: { DataLakePrincipalIdentifier: role(3) },
    });
    expect(outcomes.filter((o) => o.outcome === 'DONE')).toHaveLength(43);
    expect(outcomes[7]).toMatchObject({ outcome: 'IMPLICIT', error: expect.stringContaining('No permissions revoked') });
    expect(outcomes[30]).toMatchObject({ outcome: 'FAILED', error: expect.stringContaining('AccessDeniedException') });
    expect(outcomes[3]).toMatchObject({ outcome: 'DONE' });
  });

  it('reports, never drops, an entry that keeps failing transiently', async () => {
    mock.on(BatchRevokePermissionsCommand).callsFake((input: { Entries: BatchPermissionsRequestEntry[] }) => ({
      Failures: input.Entries.map((e) => ({ RequestEntry: e, Error: { ErrorCode: 'InternalServiceException', ErrorMessage: 'oops' } })),
    }));
    const outcomes = await new LakeFormationPermissions(client, { retries: 2 }).revoke(undefined, [entry(role(1))]);
    expect(mock.commandCalls(BatchRevokePermissionsCommand)).toHaveLength(3);
    expect(outcomes).toEqual([expect.objectContaining({ outcome: 'FAILED' })]);
  });

  it('restores exactly what was revoked: same principals, resources, permissions and grant options', async () => {
    mock.on(BatchGrantPermissionsCommand).resolves({ Failures: [] });
    const snapshot = [
      entry(role(1), ['SELECT', 'DESCRIBE']),
      { ...entry(role(2)), permissionsWithGrantOption: ['SELECT'] as LakePermission['permissions'] },
    ];
    const outcomes = await new LakeFormationPermissions(client).grant('111111111111', snapshot);
    expect(outcomes.map((o) => o.outcome)).toEqual(['DONE', 'DONE']);
    expect(mock.commandCalls(BatchGrantPermissionsCommand)[0]!.args[0].input).toEqual({
      CatalogId: '111111111111',
      Entries: [
        {
          Id: '0',
          Principal: { DataLakePrincipalIdentifier: role(1) },
          Resource: resourceOf(table),
          Permissions: ['SELECT', 'DESCRIBE'],
          PermissionsWithGrantOption: [],
        },
        {
          Id: '1',
          Principal: { DataLakePrincipalIdentifier: role(2) },
          Resource: resourceOf(table),
          Permissions: ['SELECT'],
          PermissionsWithGrantOption: ['SELECT'],
        },
      ],
    });
  });

  it('never takes an entry for done when a failure names no entry, or when a whole call fails; the other calls go on', async () => {
    const entries = Array.from({ length: 25 }, (_, i) => entry(role(i)));
    let calls = 0;
    mock.on(BatchRevokePermissionsCommand).callsFake(() => {
      calls++;
      if (calls === 1) return { Failures: [{ Error: { ErrorCode: 'AccessDeniedException', ErrorMessage: 'no entry named' } }] };
      throw Object.assign(new Error('Insufficient Lake Formation permission(s)'), { name: 'AccessDeniedException' });
    });
    const outcomes = await new LakeFormationPermissions(client).revoke(undefined, entries);
    expect(calls).toBe(2);
    expect(outcomes.every((o) => o.outcome === 'FAILED')).toBe(true);
    expect(outcomes[0]).toMatchObject({ error: expect.stringContaining('state unknown') });
    expect(outcomes[24]).toMatchObject({ error: expect.stringContaining('AccessDeniedException') });
  });

  it("keeps a grant's condition, so that a restore grants no more than there was", async () => {
    mock.on(ListPermissionsCommand).resolves({
      PrincipalResourcePermissions: [
        {
          Principal: { DataLakePrincipalIdentifier: role(1) },
          Resource: resourceOf(table),
          Permissions: ['SELECT'],
          Condition: { Expression: 'context.region == "eu"' },
        },
      ],
    });
    mock.on(BatchGrantPermissionsCommand).resolves({ Failures: [] });
    const permissions = new LakeFormationPermissions(client);
    const [listed] = await permissions.list(table);
    await permissions.grant(undefined, [listed!]);
    expect(mock.commandCalls(BatchGrantPermissionsCommand)[0]!.args[0].input.Entries![0]).toMatchObject({
      Condition: { Expression: 'context.region == "eu"' },
    });
  });
});
