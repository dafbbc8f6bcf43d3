import { beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import {
  CreateAccessGrantCommand,
  DeleteAccessGrantCommand,
  ListAccessGrantsCommand,
  S3ControlClient,
  S3ControlServiceException,
} from '@aws-sdk/client-s3-control';
import { planGrantRevocation, reachesDataset, S3AccessGrants, type AccessGrant } from '#shared/adapters/aws/s3-access-grants.ts';

/*
 * S3 Access Grants on the shapes of the S3 Control API reference (ListAccessGrants pages with
 * NextToken, grants of IAM principals and of directory users and groups, DeleteAccessGrant,
 * CreateAccessGrant). No emulator implements Access Grants (moto does not): client-mock only.
 */

const ACCOUNT = '111111111111';
const access = { accountId: ACCOUNT, locationId: 'loc-training', prefix: 'transcripts/raw/' };
const entry = (
  id: string,
  subPrefix: string,
  grantee: { GranteeType: 'IAM' | 'DIRECTORY_USER' | 'DIRECTORY_GROUP'; GranteeIdentifier: string },
  location = 'loc-training',
) => ({
  AccessGrantId: id,
  AccessGrantArn: `arn:aws:s3:eu-west-1:${ACCOUNT}:access-grants/default/grant/${id}`,
  Grantee: grantee,
  Permission: 'READ' as const,
  AccessGrantsLocationId: location,
  AccessGrantsLocationConfiguration: { S3SubPrefix: subPrefix },
  GrantScope: `s3://training-data/${subPrefix}`,
});

/** A grant as the adapter holds it: the staff group's read grant, with what a case changes. */
const grantOf = (overrides: Partial<AccessGrant> = {}): AccessGrant => ({
  accessGrantId: 'g-staff',
  grantee: { GranteeType: 'DIRECTORY_GROUP', GranteeIdentifier: 'all-staff-group-id' },
  permission: 'READ',
  locationId: 'loc-training',
  ...overrides,
});

describe('S3 Access Grants (aws-sdk-client-mock)', () => {
  const client = new S3ControlClient({ region: 'eu-west-1' });
  const mock = mockClient(client);
  beforeEach(() => mock.reset());

  it('finds, over every page, the grants whose scope reaches the dataset: narrower, broader, not beside it', async () => {
    mock
      .on(ListAccessGrantsCommand)
      .resolvesOnce({
        AccessGrantsList: [
          entry('g-narrow', 'transcripts/raw/2026/*', {
            GranteeType: 'IAM',
            GranteeIdentifier: 'arn:aws:iam::111111111111:role/analytics',
          }),
          entry('g-beside', 'keystrokes/*', { GranteeType: 'IAM', GranteeIdentifier: 'arn:aws:iam::111111111111:role/analytics' }),
        ],
        NextToken: 'p2',
      })
      .resolvesOnce({
        AccessGrantsList: [
          entry('g-broad', '*', { GranteeType: 'DIRECTORY_GROUP', GranteeIdentifier: 'all-staff-group-id' }),
          entry('g-other-location', 'transcripts/raw/*', { GranteeType: 'DIRECTORY_USER', GranteeIdentifier: 'user-1' }, 'loc-other'),
        ],
      });
    const grants = await new S3AccessGrants(client).list(access);
    expect(grants.map((g) => g.accessGrantId)).toEqual(['g-narrow', 'g-broad']);
    expect(mock.commandCalls(ListAccessGrantsCommand)[1]!.args[0].input).toMatchObject({ AccountId: ACCOUNT, NextToken: 'p2' });
  });

  it('matches by scope when the location is given by its scope', () => {
    const grant = grantOf({ locationId: 'l', grantScope: 's3://training-data/transcripts/*' });
    expect(reachesDataset(grant, { accountId: ACCOUNT, locationScope: 's3://training-data/*', prefix: 'transcripts/raw/' })).toBe(true);
    expect(reachesDataset(grant, { accountId: ACCOUNT, locationScope: 's3://training-data/*', prefix: 'keystrokes/' })).toBe(false);
  });

  it("keeps the owners' grants, deletes the others, and calls a grant deleted meanwhile gone", async () => {
    const grants: AccessGrant[] = [
      {
        accessGrantId: 'g-owner',
        grantee: { GranteeType: 'IAM', GranteeIdentifier: 'arn:aws:iam::111111111111:role/mci-owners' },
        permission: 'READWRITE',
        locationId: 'loc-training',
      },
      {
        accessGrantId: 'g-staff',
        grantee: { GranteeType: 'DIRECTORY_GROUP', GranteeIdentifier: 'all-staff-group-id' },
        permission: 'READ',
        locationId: 'loc-training',
      },
    ];
    const plan = planGrantRevocation(grants, ['arn:aws:iam::111111111111:role/mci-owners']);
    expect(plan.revoke.map((g) => g.accessGrantId)).toEqual(['g-staff']);
    mock
      .on(DeleteAccessGrantCommand)
      .resolvesOnce({})
      .rejectsOnce(
        new S3ControlServiceException({
          name: 'NoSuchAccessGrant',
          $fault: 'client',
          $metadata: { httpStatusCode: 404 },
          message: 'not found',
        }),
      );
    const grantsApi = new S3AccessGrants(client);
    expect(await grantsApi.revoke(ACCOUNT, plan.revoke[0]!)).toBe('REVOKED');
    expect(await grantsApi.revoke(ACCOUNT, plan.revoke[0]!)).toBe('GONE');
    expect(mock.commandCalls(DeleteAccessGrantCommand)[0]!.args[0].input).toEqual({ AccountId: ACCOUNT, AccessGrantId: 'g-staff' });
  });

  it('restores a grant exactly as it was and returns its new id; other errors are passed on', async () => {
    mock.on(CreateAccessGrantCommand).resolves({ AccessGrantId: 'g-new' });
    const grant = grantOf({ subPrefix: 'transcripts/*', applicationArn: 'arn:aws:sso::111111111111:application/ssoins-1/apl-1' });
    expect(await new S3AccessGrants(client).restore(ACCOUNT, grant)).toBe('g-new');
    expect(mock.commandCalls(CreateAccessGrantCommand)[0]!.args[0].input).toEqual({
      AccountId: ACCOUNT,
      AccessGrantsLocationId: 'loc-training',
      AccessGrantsLocationConfiguration: { S3SubPrefix: 'transcripts/*' },
      Grantee: { GranteeType: 'DIRECTORY_GROUP', GranteeIdentifier: 'all-staff-group-id' },
      Permission: 'READ',
      ApplicationArn: 'arn:aws:sso::111111111111:application/ssoins-1/apl-1',
    });
    mock
      .on(DeleteAccessGrantCommand)
      .rejects(
        new S3ControlServiceException({ name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 }, message: 'denied' }),
      );
    await expect(new S3AccessGrants(client).revoke(ACCOUNT, grant)).rejects.toMatchObject({ name: 'AccessDenied' });
  });

  it("takes a wrong account for an error, not for done: only the grant's own absence is GONE", async () => {
    mock.on(DeleteAccessGrantCommand).rejects(
      new S3ControlServiceException({
        name: 'NoSuchAccessGrantsInstance',
        $fault: 'client',
        $metadata: { httpStatusCode: 404 },
        message: 'no instance',
      }),
    );
    await expect(new S3AccessGrants(client).revoke(ACCOUNT, grantOf())).rejects.toMatchObject({ name: 'NoSuchAccessGrantsInstance' });
  });

  it('joins a location scope and the prefix at exactly one "/"', () => {
    const grant = grantOf({ grantScope: 's3://bucket/sales/*' });
    for (const locationScope of ['s3://bucket', 's3://bucket/', 's3://bucket/*'])
      expect(reachesDataset(grant, { accountId: ACCOUNT, locationScope, prefix: 'sales/' }), locationScope).toBe(true);
    expect(
      reachesDataset(grantOf({ grantScope: 's3://bucket-other/*' }), { accountId: ACCOUNT, locationScope: 's3://bucket', prefix: '' }),
    ).toBe(false);
  });
});
