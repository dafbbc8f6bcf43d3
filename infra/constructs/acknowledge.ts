import { CfnElement, CfnResource, Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Acknowledging a finding of AWS's own template checks (test/infra/template-checks.test.ts):
 * one call next to the resource, with a reason that is specific and true, in the resource's
 * CloudFormation Metadata, where the tools themselves read it:
 * - checkov: `Metadata.checkov.skip: [{ id, comment }]` (the comment is the reason);
 * - cfn-lint: `Metadata.cfn-lint.config.ignore_checks: [id]`, and the reason beside it in
 *   `Metadata.killswitch:cfn-lint: [{ id, reason }]` (cfn-lint's own format has no place for one).
 * cfn-lint reads ignores only on resources and on the whole template: an acknowledgement on an
 * output goes in the template's Metadata and names the output (`target`); the test checks that it
 * covers only that output.
 */
export interface Acknowledgement {
  /** The check: `CKV_AWS_117` (checkov), `W3005` (cfn-lint). */
  readonly id: string;
  /** Why the finding does not apply here, or what stands in for what it asks. */
  readonly reason: string;
}

/** Metadata key of the cfn-lint reasons, on a resource or on the template. */
export const CFN_LINT_REASONS = 'killswitch:cfn-lint';

/** A cfn-lint acknowledgement in the template's Metadata: the rule, what it covers (`Outputs/<id>`), why. */
export interface TemplateAcknowledgement extends Acknowledgement {
  readonly target: string;
}

/** The CloudFormation resource of a construct: the construct itself, or its default child. */
function cfnResourceOf(construct: IConstruct): CfnResource {
  const resource = construct instanceof CfnResource ? construct : construct.node.defaultChild;
  if (!(resource instanceof CfnResource)) throw new Error(`acknowledge: ${construct.node.path} has no CloudFormation resource of its own`);
  return resource;
}

function checkReasons(acknowledgements: readonly Acknowledgement[], where: string): void {
  for (const a of acknowledgements) {
    if (!a.id.trim() || a.reason.trim().length < 20) throw new Error(`acknowledge: ${where}: ${a.id || '(no id)'} needs a specific reason`);
  }
}

/** Merge by id: acknowledging the same check twice keeps the later reason. */
function merge<T extends { id: string }>(existing: readonly T[] | undefined, added: readonly T[]): T[] {
  const byId = new Map((existing ?? []).map((e) => [e.id, e]));
  for (const a of added) byId.set(a.id, a);
  return [...byId.values()];
}

/** Skip checkov checks on this construct's resource, each with its reason. */
export function acknowledgeCheckov(construct: IConstruct, acknowledgements: readonly Acknowledgement[]): void {
  const resource = cfnResourceOf(construct);
  checkReasons(acknowledgements, construct.node.path);
  const existing = (resource.getMetadata('checkov') as { skip?: { id: string; comment: string }[] } | undefined)?.skip;
  resource.addMetadata('checkov', {
    skip: merge(
      existing,
      acknowledgements.map(({ id, reason }) => ({ id, comment: reason })),
    ),
  });
}

/**
 * Ignore cfn-lint rules on this construct's resource, each with its reason. On a construct without
 * a resource of its own in the Resources section (an output), the ignore goes on the template.
 */
export function acknowledgeCfnLint(construct: IConstruct, acknowledgements: readonly Acknowledgement[]): void {
  checkReasons(acknowledgements, construct.node.path);
  if (construct instanceof CfnElement && !(construct instanceof CfnResource)) {
    const stack = Stack.of(construct);
    const target = `Outputs/${stack.resolve(construct.logicalId) as string}`;
    const metadata = (stack.templateOptions.metadata ??= {}) as Record<string, unknown>;
    const byKey = new Map(((metadata[CFN_LINT_REASONS] ?? []) as TemplateAcknowledgement[]).map((r) => [`${r.id} ${r.target}`, r]));
    for (const { id, reason } of acknowledgements) byKey.set(`${id} ${target}`, { id, target, reason });
    const reasons = [...byKey.values()];
    metadata[CFN_LINT_REASONS] = reasons;
    metadata['cfn-lint'] = { config: { ignore_checks: [...new Set(reasons.map((r) => r.id))] } };
    return;
  }
  const resource = cfnResourceOf(construct);
  const reasons = merge(
    resource.getMetadata(CFN_LINT_REASONS) as Acknowledgement[] | undefined,
    acknowledgements.map(({ id, reason }) => ({ id, reason })),
  );
  resource.addMetadata(CFN_LINT_REASONS, reasons);
  resource.addMetadata('cfn-lint', { config: { ignore_checks: reasons.map((r) => r.id) } });
}
