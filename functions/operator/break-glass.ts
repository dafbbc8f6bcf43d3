import { BreakGlassCommandSchema } from '#shared/schemas/operator.ts';
import { parseOrThrow } from '#shared/errors.ts';
import { OperatorService } from '#shared/killswitch/operator.ts';
import { killSwitchServices } from '#shared/runtime/composition.ts';
import { describeError, observability } from '#shared/runtime/observability.ts';
import { failure, type OperatorEnvelope } from './envelope.ts';

const { logger } = observability('break-glass');
const operator = new OperatorService(killSwitchServices());

/** Direct invocation carries no verified identity; it is recorded as such. */
const UNVERIFIED = { id: 'break-glass:unverified', verified: false } as const;

/**
 * Break-glass pause by direct `lambda:Invoke`, for when the Function URL cannot be reached.
 * It accepts exactly one action, `pause` (stopping is always safe), and records the change
 * as unverified. It can never request or approve a resume.
 */
export const handler = async (event: unknown): Promise<OperatorEnvelope> => {
  try {
    const command = parseOrThrow(BreakGlassCommandSchema, event, 'break-glass command (only "pause" is accepted)');
    const result = await operator.pause(command, UNVERIFIED);
    logger.warn('break-glass pause', { programId: command.programId, scope: command.scope, incidentId: result.incidentId });
    return { ok: true, result };
  } catch (error) {
    logger.error('break-glass pause failed', describeError(error));
    return failure(error);
  }
};
