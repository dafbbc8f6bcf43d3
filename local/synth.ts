import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '#infra/app.ts';
import type { DeploymentConfig } from '#infra/config.ts';

export type CfnTemplate = {
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown>; Metadata?: Record<string, unknown> }>;
  Outputs?: Record<string, { Value: unknown; Export?: { Name: unknown } }>;
};

/**
 * Synthesizes the very app that `cdk deploy` deploys (without bundling, which the local
 * runtime does not need) and returns its CloudFormation templates by stack name.
 */
export function synthesizeTemplates(config: DeploymentConfig): Record<string, CfnTemplate> {
  const outdir = mkdtempSync(join(tmpdir(), 'killswitch-local-'));
  try {
    const { app } = buildApp(config, { outdir, context: { 'aws:cdk:bundling-stacks': [] } }, { nag: false });
    const assembly = app.synth();
    return Object.fromEntries(assembly.stacks.map((s) => [s.stackName, s.template as CfnTemplate]));
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
