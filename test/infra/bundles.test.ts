import { join } from 'node:path';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Template } from 'aws-cdk-lib/assertions';
import { ENTRY_METADATA, PROJECT_ROOT } from '#infra/constructs/killswitch-function.ts';
import { FUNCTION_ESBUILD, sdkClientsOf } from '../../bench/bundling.ts';
import { EVERY_ACCESS_SYSTEM, describeRef, permissionsByRole, sampleApp } from '../support/cdk.ts';

/**
 * The IAM service each SDK client calls. STS maps to none: the operator function's caller proof
 * is a request the caller signed (GetCallerIdentity), which needs no permission of the function's
 * own role.
 */
const SERVICE_OF_CLIENT: Record<string, string | null> = {
  'client-dynamodb': 'dynamodb',
  'client-eventbridge': 'events',
  'client-sns': 'sns',
  'client-sqs': 'sqs',
  'client-s3': 's3',
  'client-s3-control': 's3',
  'client-lakeformation': 'lakeformation',
  'client-kms': 'kms',
  'client-secrets-manager': 'secretsmanager',
  'client-macie2': 'macie2',
  'client-guardduty': 'guardduty',
  'client-securityhub': 'securityhub',
  'client-sts': null,
};

/** The SDK clients esbuild puts in a function's bundle, built with the functions' own options. */
async function bundledClients(entry: string): Promise<string[]> {
  const result = await build({ ...FUNCTION_ESBUILD, entryPoints: [join(PROJECT_ROOT, entry)], write: false, outfile: 'out.mjs' });
  return sdkClientsOf(result.metafile!);
}

describe('Bundles: each function carries only the clients it may call (issue 20, per-function composition)', () => {
  let functions: { entry: string; role: string }[];
  let permissions: Record<string, string[]>;
  beforeAll(() => {
    // Every access system mapped: a bundle serves any configuration, so its grant worker may call all of them.
    const { stateless } = sampleApp(EVERY_ACCESS_SYSTEM);
    functions = deployed(stateless);
    permissions = permissionsByRole(stateless);
  });

  function deployed(template: Template) {
    const resources = template.toJSON().Resources as Record<
      string,
      { Type: string; Metadata?: Record<string, unknown>; Properties: { Role: unknown } }
    >;
    return Object.values(resources)
      .filter((r) => r.Type === 'AWS::Lambda::Function' && typeof r.Metadata?.[ENTRY_METADATA] === 'string')
      .map((r) => ({ entry: r.Metadata![ENTRY_METADATA] as string, role: describeRef(r.Properties.Role) }));
  }

  it('bundles no AWS SDK client whose service the function has no permission for (dead weight in every cold start)', async () => {
    expect(functions.length).toBeGreaterThanOrEqual(12);
    const unusable: string[] = [];
    for (const { entry, role } of functions) {
      const services = new Set((permissions[role] ?? []).map((p) => p.split(':')[0]));
      for (const client of await bundledClients(entry)) {
        const service = SERVICE_OF_CLIENT[client];
        if (service === undefined) unusable.push(`${entry}: ${client} (unknown to this test: add its IAM service)`);
        else if (service !== null && !services.has(service)) unusable.push(`${entry}: ${client} (its role has no ${service}: action)`);
      }
    }
    expect(unusable).toEqual([]);
  }, 120_000);

  it('bundles the sender without S3 or EventBridge: it has no anchors bucket and publishes no domain events', async () => {
    const clients = await bundledClients('functions/send-notices/handler.ts');
    expect(clients).toEqual(['client-dynamodb', 'client-sns', 'client-sqs']);
  }, 60_000);
});
