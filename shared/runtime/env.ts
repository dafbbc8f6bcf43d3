import { z } from '../schemas/z.ts';
import { ConfigurationError, toFieldIssues } from '../domain/errors.ts';
import { ProgramsConfigSchema, type ProgramConfig } from '../schemas/config.ts';
import { ProgramIdSchema } from '../schemas/common.ts';

/**
 * The one place that reads `process.env`. Each function declares the variables it needs
 * as a zod object and reads them once, at load: a missing or malformed variable fails the
 * cold start with a message that names it, instead of failing the first event.
 *
 * The variables whose values are domain configuration (notice settings, the finding map, the
 * datasets) are declared beside the compositions that read them (notice-env.ts,
 * finding-services.ts, grant-work-services.ts), so that no other function bundles their schemas.
 */
export function readEnv<S extends z.ZodObject>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const result = schema.safeParse(env);
  if (!result.success) {
    const detail = toFieldIssues(result.error)
      .map((i) => `${i.path}: ${i.message}`)
      .join('; ');
    throw new ConfigurationError(`invalid environment: ${detail}`);
  }
  return result.data;
}

export const name = z.string().min(1, 'is required');

/** A variable holding JSON that must match `schema`. */
export function jsonOf<S extends z.ZodType>(schema: S) {
  return z
    .string({ error: 'is required' })
    .transform((raw, ctx) => {
      try {
        return JSON.parse(raw) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be JSON' });
        return z.NEVER;
      }
    })
    .pipe(schema);
}

/** The programs configuration travels as JSON in one variable. */
export const ProgramsVariable = jsonOf(ProgramsConfigSchema);

export const EnvVars = {
  programStateTable: { PROGRAM_STATE_TABLE: name },
  /**
   * The ledger, and the bucket its chain heads are exported to (Object Lock). The stacks set both
   * wherever the ledger is bound (test/infra checks it); without the bucket, chains are sealed in
   * the table only.
   */
  ledgerTable: { LEDGER_TABLE: name, LEDGER_ANCHOR_BUCKET: name.optional() },
  grantsTable: { GRANTS_TABLE: name },
  acksTable: { ACKS_TABLE: name },
  dataSubjectsTable: { DATA_SUBJECTS_TABLE: name },
  eventBus: { EVENT_BUS_NAME: name },
  alertTopic: { ALERT_TOPIC_ARN: name },
  programs: { KILLSWITCH_PROGRAMS: ProgramsVariable },
  grantWorkQueue: { GRANT_WORK_QUEUE_URL: name },
  grantWorkDlq: { GRANT_WORK_DLQ_URL: name },
  /** Longest a grant-work invocation works before it continues in a new one. */
  grantWorkBudget: { GRANT_WORK_BUDGET_MS: z.coerce.number().int().min(100).default(600_000) },
  noticePlanQueue: { NOTICE_PLAN_QUEUE_URL: name },
  noticePlanDlq: { NOTICE_PLAN_DLQ_URL: name },
  noticeSendQueue: { NOTICE_SEND_QUEUE_URL: name },
  noticeSendDlq: { NOTICE_SEND_DLQ_URL: name },
  noticeTopic: { NOTICE_TOPIC_ARN: name },
  /** Deliveries of a send batch before its failed notices are marked FAILED and dead-lettered. */
  noticeMaxAttempts: { NOTICE_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(5) },
  noticePlanBudget: { NOTICE_PLAN_BUDGET_MS: z.coerce.number().int().min(100).default(600_000) },
  rejectedFindingsQueue: { REJECTED_FINDINGS_QUEUE_URL: name },
  /** Where the trigger keeps events that can never pause anything (malformed minimal fields, an unknown program). */
  triggerDlq: { TRIGGER_DLQ_URL: name },
  /** Whose role sessions are operators (see shared/domain/identity.ts). */
  operatorTrust: {
    KILLSWITCH_ACCOUNT: z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id'),
    OPERATOR_ROLES: jsonOf(z.array(z.string().regex(/^[\w+=,.@-]{1,64}$/, 'must be an IAM role name')).min(1)),
    /** The function's region: caller proofs are verified by this region's STS endpoint (or AWS_ENDPOINT_URL_STS). */
    AWS_REGION: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region'),
  },
  /** A SENDING notice claim older than this is presumed abandoned (2 × the sender's timeout, < the queue's visibility timeout). */
  noticeStaleClaim: { NOTICE_STALE_CLAIM_MS: z.coerce.number().int().min(1000).default(120_000) },
  /** The programs whose halt acknowledgements the intake and the aggregator take (comma-separated). */
  ackPrograms: {
    ACK_PROGRAMS: z
      .string({ error: 'is required' })
      .transform((s) => s.split(',').filter(Boolean))
      .pipe(z.array(ProgramIdSchema).min(1, 'must list at least one')),
  },
  sweepLookbackMs: { SWEEP_LOOKBACK_MS: z.coerce.number().int().min(60_000).default(86_400_000) },
  sweepOverlapMs: { SWEEP_OVERLAP_MS: z.coerce.number().int().min(0).default(600_000) },
  sweepMaxFindings: { SWEEP_MAX_FINDINGS: z.coerce.number().int().min(1).default(2000) },
} as const;

/** Looks up a program in the deployed configuration. */
export class ProgramRegistry {
  readonly #programs: Map<string, ProgramConfig>;
  constructor(programs: readonly ProgramConfig[]) {
    this.#programs = new Map(programs.map((p) => [p.programId, p]));
  }
  find(programId: string): ProgramConfig | undefined {
    return this.#programs.get(programId);
  }
  all(): ProgramConfig[] {
    return [...this.#programs.values()];
  }
}
