import type { Severity } from '../schemas/common.ts';
import type { FindingOrigin } from '../schemas/findings.ts';

/*
 * Which findings concern a data-collection program, per source. One list, used three times:
 * by the EventBridge rules (infra), by the sweep's API filters, and by the intake's own check,
 * so the event path and the sweep can never disagree about what is relevant.
 */

/** Macie policy findings that mean a bucket is (or may become) readable by more people than intended. */
export const MACIE_POLICY_TYPES = [
  'Policy:IAMUser/S3BucketPublic',
  'Policy:IAMUser/S3BucketSharedExternally',
  'Policy:IAMUser/S3BucketReplicatedExternally',
  'Policy:IAMUser/S3BucketSharedWithCloudFront',
  'Policy:IAMUser/S3BlockPublicAccessDisabled',
] as const;

/** Macie sensitive data findings: an object holds data of this kind. */
export const MACIE_SENSITIVE_DATA_TYPES = [
  'SensitiveData:S3Object/Credentials',
  'SensitiveData:S3Object/CustomIdentifier',
  'SensitiveData:S3Object/Financial',
  'SensitiveData:S3Object/Multiple',
  'SensitiveData:S3Object/Personal',
] as const;

export const MACIE_TYPES: readonly string[] = [...MACIE_POLICY_TYPES, ...MACIE_SENSITIVE_DATA_TYPES];
/** Macie `severity.description` values the rule and the sweep take (Low is left to Macie's console). */
export const MACIE_SEVERITIES = ['Medium', 'High'] as const;

/** GuardDuty S3 and IAM finding families that indicate exposure, exfiltration or stolen access. */
export const GUARDDUTY_TYPE_PREFIXES = [
  'Exfiltration:S3/',
  'Exfiltration:IAMUser/',
  'Policy:S3/',
  'UnauthorizedAccess:S3/',
  'UnauthorizedAccess:IAMUser/',
  'CredentialAccess:IAMUser/',
  'Discovery:S3/',
  'Impact:S3/',
  'PenTest:S3/',
  'Stealth:S3/',
] as const;
/** GuardDuty resource types those findings are about. */
export const GUARDDUTY_RESOURCE_TYPES = ['S3Bucket', 'AccessKey'] as const;
/** Medium and above (GuardDuty 4.0-10.0). */
export const GUARDDUTY_MIN_SEVERITY = 4;

/** ASFF resource types about data in S3 or the identities that reach it. */
export const SECURITY_HUB_RESOURCE_TYPES = ['AwsS3Bucket', 'AwsS3Object', 'AwsIamAccessKey', 'AwsIamUser', 'AwsIamRole'] as const;
export const SECURITY_HUB_SEVERITY_LABELS = ['MEDIUM', 'HIGH', 'CRITICAL'] as const;
/**
 * The same resources as Security Hub's OCSF findings name them: some with ASFF's names, some with
 * CloudFormation's (`AWS::S3::Bucket`); the intake reads both as ASFF's (asffResourceType).
 */
export const SECURITY_HUB_OCSF_RESOURCE_TYPES = [
  ...SECURITY_HUB_RESOURCE_TYPES,
  'AWS::S3::Bucket',
  'AWS::S3::Object',
  'AWS::IAM::AccessKey',
  'AWS::IAM::User',
  'AWS::IAM::Role',
] as const;
/**
 * The ProductArns of this region's GuardDuty and Macie copies in Security Hub, for those of the
 * two taken directly: the Security Hub rule and sweep leave them out, since their own rule and
 * sweep have them (ProductArn is required in ASFF, so "anything-but" on it drops nothing else).
 * Copies from other regions (cross-region aggregation) still come: only Security Hub has them.
 */
export function directCopyProductArns(region: string, sources: readonly string[], partition = 'aws'): string[] {
  return (['guardduty', 'macie'] as const)
    .filter((s) => sources.includes(s))
    .map((p) => `arn:${partition}:securityhub:${region}::product/aws/${p}`);
}

/** OCSF `severity_id` Medium (3), High (4), Critical (5) and Fatal (6). */
export const SECURITY_HUB_OCSF_SEVERITY_IDS = [3, 4, 5, 6] as const;
export const SECURITY_HUB_WORKFLOW_STATUSES = ['NEW', 'NOTIFIED'] as const;
/*
 * GuardDuty and Macie also send their findings to Security Hub. The intake recognises those
 * copies (by ProductArn, see productOf) and leaves them to their own source when it is taken
 * directly: one finding, one anomaly id. The rule and the sweep do not filter them by product:
 * ProductName is optional in ASFF, and "anything-but" never matches a finding that lacks it.
 */

// ---------------------------------------------------------------------------------------------
// Severity: each source's scale onto killswitch's LOW / MEDIUM / HIGH / CRITICAL
// ---------------------------------------------------------------------------------------------

/** Macie: Low (score 1), Medium (2), High (3). Macie has no critical level. */
export function macieSeverity(description: 'Low' | 'Medium' | 'High'): Severity {
  return description === 'High' ? 'HIGH' : description === 'Medium' ? 'MEDIUM' : 'LOW';
}

/** GuardDuty: Critical 9.0-10.0, High 7.0-8.9, Medium 4.0-6.9, Low below 4.0. */
export function guardDutySeverity(score: number): Severity {
  if (score >= 9) return 'CRITICAL';
  if (score >= 7) return 'HIGH';
  if (score >= 4) return 'MEDIUM';
  return 'LOW';
}

/**
 * ASFF: `Severity.Label` as is; INFORMATIONAL ("no issue was found") is not an anomaly. Without a
 * label, `Normalized` with Security Hub's own ranges: 0 informational, 1-39 low, 40-69 medium,
 * 70-89 high, 90-100 critical.
 */
export function asffSeverity(severity: { Label?: string | undefined; Normalized?: number | undefined }): Severity | undefined {
  switch (severity.Label) {
    case 'CRITICAL':
    case 'HIGH':
    case 'MEDIUM':
    case 'LOW':
      return severity.Label;
    case 'INFORMATIONAL':
      return undefined;
  }
  const n = severity.Normalized ?? 0;
  if (n >= 90) return 'CRITICAL';
  if (n >= 70) return 'HIGH';
  if (n >= 40) return 'MEDIUM';
  if (n >= 1) return 'LOW';
  return undefined;
}

/** Whether a finding of this type concerns a program at all (severity is the program policy's business). */
export function isRelevantType(source: FindingOrigin, type: string, resourceTypes: readonly string[]): boolean {
  switch (source) {
    case 'macie':
      return MACIE_TYPES.includes(type);
    case 'guardduty':
      return GUARDDUTY_TYPE_PREFIXES.some((p) => type.startsWith(p));
    case 'securityhub':
      return resourceTypes.some((t) => (SECURITY_HUB_RESOURCE_TYPES as readonly string[]).includes(t));
  }
}

/** What kind of anomaly a finding type is, as a kebab-case word (`AnomalyDetail.kind`). */
export function kindOf(source: FindingOrigin, type: string): string {
  if (source === 'macie') {
    if (type.startsWith('SensitiveData:')) return 'sensitive-data';
    if (type.endsWith('/S3BucketPublic')) return 'public-bucket';
    if (type.endsWith('/S3BlockPublicAccessDisabled')) return 'public-access-unblocked';
    if (/SharedExternally|ReplicatedExternally|SharedWithCloudFront/.test(type)) return 'shared-externally';
    return 'policy-change';
  }
  if (source === 'guardduty') {
    if (/BucketAnonymousAccessGranted|BucketPublicAccessGranted/.test(type)) return 'public-bucket';
    if (type.includes('BucketBlockPublicAccessDisabled')) return 'public-access-unblocked';
    // The threat purpose: "UnauthorizedAccess:S3/TorIPCaller" -> "unauthorized-access".
    return kebab(type.split(':')[0] ?? '') || 'guardduty-finding';
  }
  // ASFF types are "namespace/category/classifier": "Effects/Data Exposure" -> "data-exposure".
  const segments = type.split('/').filter(Boolean);
  // Security Hub's exposure findings: "Exposure/Potential Impact/Data Exposure" -> "data-exposure".
  if (segments[0] === 'Exposure' && segments.length > 2) return kebab(segments.at(-1)!) || 'exposure';
  return kebab(segments[Math.min(1, segments.length - 1)] ?? '') || 'security-hub-finding';
}

function kebab(s: string): string {
  return s
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^[^a-z]+|-+$/g, '')
    .slice(0, 64)
    .replace(/-+$/g, '');
}

/** Who could see the data, in words, for the kinds that mean exposure (the incident's `exposure.audience`). */
export function audienceOf(kind: string): string | undefined {
  switch (kind) {
    case 'public-bucket':
      return 'anyone on the internet (the bucket allowed public access)';
    case 'public-access-unblocked':
      return 'possibly anyone on the internet (S3 Block Public Access was turned off)';
    case 'data-exposure':
      return 'more people than intended (the resource allowed wider access)';
    case 'shared-externally':
      return 'other AWS accounts (the bucket was shared or replicated outside the organisation)';
    case 'exfiltration':
    case 'data-exfiltration':
      return 'an unknown party (data may have been copied out)';
    default:
      return undefined;
  }
}
