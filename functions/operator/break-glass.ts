import { BreakGlassCommandSchema } from '#shared/schemas/operator.ts';
import { parseOrThrow } from '#shared/domain/errors.ts';
import { OperatorPause } from '#shared/killswitch/operator-pause.ts';
import { BREAK_GLASS } from '#shared/domain/identity.ts';
import { killSwitchServices } from '#shared/runtime/kill-switch-services.ts';
import { instrumented } from '#shared/runtime/middleware.ts';
import { describeError, observability } from '#shared/runtime/observability.ts';
import { failure, type OperatorEnvelope } from './envelope.ts';

const obs = observability('break-glass');
const { logger } = obs;
const pauses = new OperatorPause({ ...killSwitchServices(), telemetry: obs.telemetry });

/**
 * Break-glass pause by direct `lambda:Invoke`, for when the Function URL cannot be reached.
 * It accepts exactly one action, `pause` (stopping is always safe), and records the change
 * as unverified. It can never request or approve a resume.
 */
export const handler = instrumented(async (event: unknown): Promise<OperatorEnvelope> => {
  try {
    const command = parseOrThrow(BreakGlassCommandSchema, event, 'break-glass command (only "pause" is accepted)');
    const result = await pauses.pause(command, BREAK_GLASS);
    logger.warn('break-glass pause', {
      programId: command.programId,
      scope: command.scope,
      incidentId: 'incidentId' in result ? result.incidentId : undefined,
      dryRun: 'dryRun' in result,
    });
    return { ok: true, result };
  } catch (error) {
    logger.error('break-glass pause failed', describeError(error));
    return failure(error);
  }
}, obs);
