import { createHmac } from 'node:crypto';

/** Domain separation of enrolment secrets from any other use of the master (docs/state-feed.md §7). */
export const ENROLMENT_CONTEXT = 'killswitch-agent-enrolment:v1:';

/**
 * An agent's enrolment secret: HMAC-SHA256(master, context ‖ collectorId) — what the agent SDK's
 * deriveAgentSecret computes, what the intake checks, and what `killswitch agents enrol` prints.
 * Node's crypto only, so the CLI can derive it without loading the acknowledgements' schemas.
 */
export const agentSecret = (master: Buffer, collectorId: string): Buffer =>
  createHmac('sha256', master)
    .update(ENROLMENT_CONTEXT + collectorId)
    .digest();
