import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sampleApp } from '../support/cdk.ts';

describe('cdk-nag: AwsSolutions', () => {
  it('synthesizes the whole app with zero unacknowledged findings', () => {
    const { app } = sampleApp();
    let failure: unknown;
    try {
      app.synth();
    } catch (error) {
      failure = error;
    }
    const reportPath = join(app.outdir, 'validation-report.json');
    const violations = existsSync(reportPath)
      ? (
          JSON.parse(readFileSync(reportPath, 'utf8')).pluginReports as {
            violations: { ruleName: string; violatingConstructs: { constructPath: string }[] }[];
          }[]
        )
          .flatMap((r) => r.violations)
          .flatMap((v) => v.violatingConstructs.map((c) => `${v.ruleName} at ${c.constructPath}`))
      : [];
    expect(violations).toEqual([]);
    expect(failure).toBeUndefined();
  });
});
