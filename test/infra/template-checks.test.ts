import { beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Stack } from 'aws-cdk-lib';
import type { DeploymentConfigInput } from '#infra/config.ts';
import { CFN_LINT_REASONS, type Acknowledgement, type TemplateAcknowledgement } from '#infra/constructs/acknowledge.ts';
import { EVERY_ACCESS_SYSTEM, sampleApp } from '../support/cdk.ts';
import { pythonTools } from '../support/python-tools.ts';

/**
 * AWS's own template checks: every template of the app, in every variant below, through cfn-lint
 * (AWS's CloudFormation linter, its default rules: errors and warnings) and checkov (its
 * CloudFormation checks). The templates must pass both as synthesized; and with every
 * acknowledgement stripped, what the tools find must be exactly what is acknowledged, so that an
 * acknowledgement never outlives its finding. The tools are pinned with hashes in
 * tools/python/requirements.txt; scripts/python-tools.mjs installs them into .venv-tools/.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const REGION = 'eu-west-1'; // the sample configuration's

/** The configurations synthesized: the sample, every optional setting, and the least of them. */
const VARIANTS: Record<string, Partial<DeploymentConfigInput>> = {
  sample: {},
  'every-option': {
    operators: {
      identityCenterRoleArns: [
        'arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Oncall_0123456789abcdef',
      ],
      sourceIdentityRoleArns: ['arn:aws:iam::111111111111:role/OktaOncall'],
    },
    alerts: { emails: ['oncall@example.com'] },
    ...EVERY_ACCESS_SYSTEM,
  },
  'imported-operators-no-sweep': {
    operators: { roleArn: 'arn:aws:iam::111111111111:role/OnCall', identityCenterRoleArns: [], sourceIdentityRoleArns: [] },
    findings: { s3: [], accounts: [], sources: ['guardduty'], sweep: { everyMinutes: 0 } },
  },
};

type Json = Record<string, unknown>;
interface CfnTemplate {
  Metadata?: Json;
  Resources: Record<string, { Type: string; Metadata?: Json }>;
}
interface Acknowledged {
  tool: 'checkov' | 'cfn-lint';
  file: string;
  stack: string;
  /** `Resources/<logical id>` or `Outputs/<logical id>`. */
  target: string;
  id: string;
  reason: string;
}
interface Finding {
  tool: 'checkov' | 'cfn-lint';
  file: string;
  target: string;
  id: string;
  message: string;
}

const AS_SYNTHESIZED = 'synthesized';
const STRIPPED = 'stripped';

/** The template without any acknowledgement the tools would honour (the reasons may stay). */
function stripAcknowledgements(template: CfnTemplate): CfnTemplate {
  const copy = structuredClone(template);
  const strip = (metadata: Json | undefined) => {
    if (!metadata) return;
    delete metadata.checkov;
    delete metadata['cfn-lint'];
  };
  strip(copy.Metadata);
  for (const r of Object.values(copy.Resources)) strip(r.Metadata);
  return copy;
}

/** Every acknowledgement in a template, with its reason; an ignore or skip without one is an error. */
function acknowledgementsOf(template: CfnTemplate, file: string, stack: string): Acknowledged[] {
  const out: Acknowledged[] = [];
  const missing: string[] = [];
  const ignored = (metadata: Json | undefined) =>
    (metadata?.['cfn-lint'] as { config?: { ignore_checks?: string[] } } | undefined)?.config?.ignore_checks ?? [];
  const templateReasons = (template.Metadata?.[CFN_LINT_REASONS] ?? []) as TemplateAcknowledgement[];
  for (const id of ignored(template.Metadata)) {
    const reasons = templateReasons.filter((r) => r.id === id);
    if (!reasons.length) missing.push(`template: cfn-lint ${id}`);
    for (const r of reasons) out.push({ tool: 'cfn-lint', file, stack, target: r.target, id, reason: r.reason });
  }
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    const target = `Resources/${logicalId}`;
    const reasons = (resource.Metadata?.[CFN_LINT_REASONS] ?? []) as Acknowledgement[];
    for (const id of ignored(resource.Metadata)) {
      const reason = reasons.find((r) => r.id === id)?.reason;
      if (!reason) missing.push(`${target}: cfn-lint ${id}`);
      else out.push({ tool: 'cfn-lint', file, stack, target, id, reason });
    }
    for (const skip of (resource.Metadata?.checkov as { skip?: { id: string; comment?: string }[] } | undefined)?.skip ?? []) {
      if (!skip.comment?.trim()) missing.push(`${target}: checkov ${skip.id}`);
      else out.push({ tool: 'checkov', file, stack, target, id: skip.id, reason: skip.comment });
    }
  }
  expect(missing, `${file}: acknowledgements without a reason`).toEqual([]);
  return out;
}

function runTool(command: string, args: string[], okExit: (code: number) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    // The tools stay offline: checkov takes no policy metadata from its platform.
    const child = spawn(command, args, {
      cwd: ROOT,
      env: { ...process.env, BC_SKIP_MAPPING: 'TRUE', PYTHONWARNINGS: 'ignore' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === null || !okExit(code) || /Traceback \(most recent call last\)/.test(stderr))
        reject(new Error(`${basename(command)} exited ${code}:\n${stderr.slice(-4000)}`));
      else resolve(stdout);
    });
  });
}

async function cfnLint(exe: string, files: string[]): Promise<Finding[]> {
  // Exit codes: a bit each for errors (2), warnings (4) and informational findings (8); 1 is a crash.
  const out = await runTool(exe, ['--format', 'json', '--regions', REGION, '--', ...files], (code) => code % 2 === 0 && code <= 14);
  const matches = JSON.parse(out) as { Filename: string; Rule: { Id: string }; Location: { Path: (string | number)[] }; Message: string }[];
  return matches.map((m) => ({
    tool: 'cfn-lint',
    file: m.Filename,
    target:
      m.Location.Path.length > 1 && (m.Location.Path[0] === 'Resources' || m.Location.Path[0] === 'Outputs')
        ? `${m.Location.Path[0]}/${m.Location.Path[1]}`
        : String(m.Location.Path[0] ?? ''),
    id: m.Rule.Id,
    message: m.Message,
  }));
}

interface CheckovCheck {
  check_id: string;
  check_name: string;
  resource: string;
  file_abs_path: string;
  suppress_comment?: string;
}
interface CheckovReport {
  results: { failed_checks: CheckovCheck[]; skipped_checks: CheckovCheck[]; passed_checks: CheckovCheck[]; parsing_errors: string[] };
  summary: { parsing_errors: number; resource_count: number };
}

async function checkov(exe: string, dir: string): Promise<CheckovReport> {
  // Exit 1 means failed checks (read from the report); anything else but 0 is an error.
  const out = await runTool(
    exe,
    ['-d', dir, '--framework', 'cloudformation', '--output', 'json', '--skip-download', '--compact'],
    (code) => code === 0 || code === 1,
  );
  const parsed = JSON.parse(out.slice(out.search(/[[{]/))) as CheckovReport | CheckovReport[];
  const reports = Array.isArray(parsed) ? parsed : [parsed];
  expect(reports, 'checkov ran one framework').toHaveLength(1);
  return reports[0]!;
}

const checkovFinding = (c: CheckovCheck): Finding => ({
  tool: 'checkov',
  file: c.file_abs_path,
  target: `Resources/${c.resource.slice(c.resource.indexOf('.') + 1)}`,
  id: c.check_id,
  message: c.check_name,
});

const show = (f: Finding) => `${f.tool} ${f.id} at ${basename(f.file)} ${f.target}: ${f.message}`;
const keyOf = (x: { tool: string; file: string; target: string; id: string }) => `${x.tool} ${x.id} ${basename(x.file)} ${x.target}`;

describe("AWS's own template checks: cfn-lint and checkov", () => {
  const files: { path: (kind: string) => string; stack: string }[] = [];
  const acknowledged: Acknowledged[] = [];
  let lint: Finding[] = [];
  let scan: CheckovReport;
  let dir: string;

  beforeAll(async () => {
    const tools = pythonTools();
    dir = mkdtempSync(join(tmpdir(), 'ks-template-checks-'));
    for (const kind of [AS_SYNTHESIZED, STRIPPED]) mkdirSync(join(dir, kind));
    for (const [variant, overrides] of Object.entries(VARIANTS)) {
      const { stateful, stateless, app } = sampleApp(overrides);
      const nameOf = (suffix: string) => app.node.children.filter(Stack.isStack).find((s) => s.stackName.endsWith(suffix))!.stackName;
      for (const [template, stackName] of [
        [stateful.toJSON(), nameOf('-Stateful')],
        [stateless.toJSON(), nameOf('-Stateless')],
      ] as [CfnTemplate, string][]) {
        const name = `${variant}.${stackName}.template.json`;
        const path = (kind: string) => join(dir, kind, name);
        writeFileSync(path(AS_SYNTHESIZED), JSON.stringify(template, null, 1));
        writeFileSync(path(STRIPPED), JSON.stringify(stripAcknowledgements(template), null, 1));
        files.push({ path, stack: stackName });
        acknowledged.push(...acknowledgementsOf(template, path(STRIPPED), stackName));
      }
    }
    // Each tool once over both copies (checkov takes seconds to start); one after the other, so
    // that the suite's other workers keep a core (its timing-sensitive tests share the machine).
    lint = await cfnLint(
      tools.cfnLint,
      files.flatMap((f) => [f.path(AS_SYNTHESIZED), f.path(STRIPPED)]),
    );
    scan = await checkov(tools.checkov, dir);
  }, 15 * 60_000);

  const inKind = (kind: string) => (f: { file: string }) => basename(dirname(f.file)) === kind;

  it('cfn-lint finds nothing in the templates as synthesized', () => {
    expect(lint.filter(inKind(AS_SYNTHESIZED)).map(show)).toEqual([]);
  });

  it('checkov scans every template and fails no check on them as synthesized', () => {
    expect(scan.summary.parsing_errors, JSON.stringify(scan.results.parsing_errors)).toBe(0);
    const scanned = new Set(
      [...scan.results.passed_checks, ...scan.results.failed_checks, ...scan.results.skipped_checks].map(
        (c) => basename(dirname(c.file_abs_path)) + '/' + basename(c.file_abs_path),
      ),
    );
    for (const f of files)
      for (const kind of [AS_SYNTHESIZED, STRIPPED])
        expect(scanned, `checkov scanned ${kind}/${basename(f.path(kind))}`).toContain(`${kind}/${basename(f.path(kind))}`);
    expect(scan.results.failed_checks.map(checkovFinding).filter(inKind(AS_SYNTHESIZED)).map(show)).toEqual([]);
    // What it skipped there is exactly what the templates acknowledge for it.
    const skipped = scan.results.skipped_checks
      .map(checkovFinding)
      .filter(inKind(AS_SYNTHESIZED))
      .map((f) => keyOf({ ...f, file: f.file.replace(`/${AS_SYNTHESIZED}/`, `/${STRIPPED}/`) }));
    expect(skipped.sort()).toEqual(
      acknowledged
        .filter((a) => a.tool === 'checkov')
        .map(keyOf)
        .sort(),
    );
  });

  it('finds, without the acknowledgements, exactly what is acknowledged: every finding has its reason, and no acknowledgement outlives its finding', () => {
    const raw = [...lint.filter(inKind(STRIPPED)), ...scan.results.failed_checks.map(checkovFinding).filter(inKind(STRIPPED))];
    const acknowledgedKeys = new Set(acknowledged.map(keyOf));
    expect(raw.filter((f) => !acknowledgedKeys.has(keyOf(f))).map(show), 'findings nobody acknowledged').toEqual([]);
    // Per stack, target and check across the variants: an acknowledgement may cover a finding only some configurations have.
    const general = (x: { tool: string; file: string; target: string; id: string }) =>
      `${x.tool} ${x.id} ${basename(x.file).split('.')[1]} ${x.target}`;
    const found = new Set(raw.map(general));
    const stale = [...new Set(acknowledged.filter((a) => !found.has(general(a))).map(general))];
    expect(stale, 'acknowledgements that match no finding (remove them)').toEqual([]);
  });

  it('lists what is acknowledged, and why', () => {
    // One entry per check and reason, with every resource it covers (in any configuration).
    const groups = new Map<string, { tool: string; id: string; reason: string; targets: Set<string> }>();
    for (const a of acknowledged) {
      const key = `${a.tool} ${a.id} ${a.reason}`;
      if (!groups.has(key)) groups.set(key, { tool: a.tool, id: a.id, reason: a.reason, targets: new Set() });
      groups.get(key)!.targets.add(`${a.stack}/${a.target}`);
    }
    const entries = [...groups.values()].sort((a, b) => `${a.tool} ${a.id}`.localeCompare(`${b.tool} ${b.id}`));
    const count = entries.reduce((n, g) => n + g.targets.size, 0);
    console.log(
      [
        `AWS's own template checks: ${count} acknowledged findings (${files.length} templates of ${Object.keys(VARIANTS).length} configurations)`,
        ...entries.map(
          (g) => `- ${g.tool} ${g.id}: ${g.reason}
${[...g.targets]
  .sort()
  .map((t) => `    ${t}`)
  .join('\n')}`,
        ),
      ].join('\n'),
    );
    expect(count).toBeGreaterThan(0);
  });
});
