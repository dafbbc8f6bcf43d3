import { NoticePlanner } from '#shared/notices/planner.ts';
import { parsePlanWork, performPlanWork } from '#shared/notices/notice-work.ts';
import { planNoticesServices } from '#shared/runtime/plan-notices-services.ts';
import { instrumented } from '#shared/runtime/middleware.ts';
import { observability } from '#shared/runtime/observability.ts';
import { sqsWorker } from '#shared/runtime/sqs-worker.ts';

const obs = observability('plan-notices');
const services = planNoticesServices();
const deps = { ...services, planner: new NoticePlanner(services), telemetry: obs.telemetry };

/** Plans exposure notices: on `Kill Switch Engaged` when the program notifies automatically, or on an operator's `notify`. */
export const handler = instrumented(
  sqsWorker({
    name: 'plan-notices',
    logger: obs.logger,
    parse: parsePlanWork,
    deadLetters: services.deadLetters,
    budgetMs: services.env.NOTICE_PLAN_BUDGET_MS,
    perform: async (work, budget) => ({ incidentId: work.incidentId, mode: work.mode, ...(await performPlanWork(work, budget, deps)) }),
  }),
  obs,
);
