import { GrantRevoker } from '#shared/grants/revoker.ts';
import { GrantRestorer } from '#shared/grants/restorer.ts';
import { parseGrantWork, performGrantWork } from '#shared/grants/grant-work.ts';
import { grantWorkServices } from '#shared/runtime/grant-work-services.ts';
import { grantBackend } from '#shared/runtime/grant-backends.ts';
import { instrumented } from '#shared/runtime/middleware.ts';
import { observability } from '#shared/runtime/observability.ts';
import { sqsWorker } from '#shared/runtime/sqs-worker.ts';

const obs = observability('revoke-grants');
const services = grantWorkServices(grantBackend);
const deps = {
  ...services,
  telemetry: obs.telemetry,
  revoker: new GrantRevoker(services.grants, services.revocations),
  restorer: new GrantRestorer(services.grants, services.revocations),
};

/**
 * Grant work from the queue: `Kill Switch Engaged` events (revoke the incident's datasets),
 * continuations, and approved restores.
 */
export const handler = instrumented(
  sqsWorker({
    name: 'revoke-grants',
    logger: obs.logger,
    parse: parseGrantWork,
    deadLetters: services.deadLetters,
    budgetMs: services.env.GRANT_WORK_BUDGET_MS,
    perform: async (work, budget) => ({
      type: work.type,
      incidentId: work.incidentId,
      continuation: work.continuation,
      outcome: await performGrantWork(work, budget, deps),
    }),
  }),
  obs,
);
