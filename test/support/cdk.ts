import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp, type KillSwitchApp } from '#infra/app.ts';
import { loadDeploymentConfig, parseDeploymentConfig, type DeploymentConfigInput } from '#infra/config.ts';

/** The sample deployment, built in memory without bundling (tests never run esbuild). */
export function sampleApp(overrides: Partial<DeploymentConfigInput> = {}): {
  app: KillSwitchApp['app'];
  stateful: Template;
  stateless: Template;
} {
  const base = loadDeploymentConfig();
  const config = parseDeploymentConfig({ ...base, ...overrides });
  const built = buildApp(config, {
    outdir: mkdtempSync(join(tmpdir(), 'ks-cdk-')),
    context: { 'aws:cdk:bundling-stacks': [] },
  });
  return { app: built.app, stateful: Template.fromStack(built.stateful), stateless: Template.fromStack(built.stateless) };
}

/** Every access system mapped (two quarantined buckets, a Lake Formation table, an Access Grants instance in another account). */
export const EVERY_ACCESS_SYSTEM: Partial<DeploymentConfigInput> = {
  datasets: [
    {
      programId: 'mci',
      datasetId: 'transcripts',
      owners: ['arn:aws:iam::111111111111:role/mci-data-owner'],
      access: {
        bucketPolicy: { bucket: 'mci-transcripts', prefix: 'raw/' },
        lakeFormation: { database: 'mci', table: 'transcripts' },
      },
    },
    {
      programId: 'mci',
      datasetId: 'keystrokes',
      access: {
        bucketPolicy: { bucket: 'mci-keystrokes' },
        s3AccessGrants: { accountId: '222222222222', locationScope: 's3://mci-keystrokes/*', prefix: 'raw/' },
      },
    },
  ],
};

type Json = Record<string, unknown>;

/** A readable name for a CloudFormation resource reference inside a policy. */
export function describeRef(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Json;
  if (v['Fn::ImportValue']) {
    const name = String(v['Fn::ImportValue']);
    const m = /Exports?Output(?:FnGetAtt|Ref)([A-Za-z]+?)[0-9A-F]{8}/.exec(name);
    return m ? m[1]! : name;
  }
  if (v['Fn::GetAtt']) return String((v['Fn::GetAtt'] as string[])[0]).replace(/[0-9A-F]{8}$/, '');
  if (v.Ref) return String(v.Ref).replace(/[0-9A-F]{8}$/, '');
  if (v['Fn::Join']) return (v['Fn::Join'] as [string, unknown[]])[1].map(describeRef).join('');
  return JSON.stringify(v);
}

/**
 * Every (action, resource) pair each role is allowed, from inline and managed policies,
 * as `action -> resource` strings sorted, keyed by the role's logical id without its hash.
 */
export function permissionsByRole(template: Template): Record<string, string[]> {
  const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Json }>;
  const out: Record<string, Set<string>> = {};
  const add = (roleRef: unknown, statements: Json[]) => {
    const role = describeRef(roleRef);
    out[role] ??= new Set();
    for (const s of statements) {
      if (s.Effect !== 'Allow') continue;
      const actions = ([] as unknown[]).concat(s.Action);
      const res = ([] as unknown[]).concat(s.Resource);
      const cond = s.Condition ? ` if ${JSON.stringify(s.Condition)}` : '';
      for (const a of actions) for (const r of res) out[role]!.add(`${String(a)} -> ${describeRef(r)}${cond}`);
    }
  };
  for (const r of Object.values(resources)) {
    if (r.Type === 'AWS::IAM::Policy') {
      for (const role of (r.Properties.Roles as unknown[]) ?? []) add(role, (r.Properties.PolicyDocument as Json).Statement as Json[]);
    }
  }
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, [...v].sort()]));
}
