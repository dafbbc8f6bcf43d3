import { createHash } from 'node:crypto';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { OperatorCommandSchema } from '#shared/schemas/operator.ts';
import { FunctionUrlEventSchema, type FunctionUrlEvent } from '#shared/schemas/aws-events.ts';
import type { Principal } from '#shared/schemas/common.ts';
import { CALLER_PROOF_HEADER, CallerProofError, CallerProofUnavailableError } from '#shared/adapters/aws/caller-proof.ts';
import { parseOrThrow, PolicyRefusedError, ValidationError } from '#shared/domain/errors.ts';
import { OperatorActions } from '#shared/killswitch/operator.ts';
import { operatorPrincipal } from '#shared/domain/identity.ts';
import { operatorServices } from '#shared/runtime/operator-services.ts';
import { instrumented } from '#shared/runtime/middleware.ts';
import { describeError, observability } from '#shared/runtime/observability.ts';
import { failure, HTTP_STATUS, type OperatorEnvelope } from './envelope.ts';

const obs = observability('operator');
const { logger } = obs;
const services = operatorServices();
const operator = new OperatorActions({ ...services, telemetry: obs.telemetry });

/**
 * Operator actions behind a Lambda Function URL with AWS_IAM auth. The principal is never a field
 * of the body: it is the identity a caller proof proves (shared/adapters/aws/caller-proof.ts), which must be
 * the identity Lambda verified for the URL, and only a session of an operators role is an operator
 * (the person is its bound session name).
 *
 * Why a proof besides the URL's own check: the resource policy lets the operators invoke this
 * function only through the URL, but within the account an identity policy allowing
 * `lambda:InvokeFunction` is enough to invoke it directly, with a request context of one's own
 * making. Without a valid proof only a pause is accepted — pausing is always allowed — and it is
 * recorded as unverified, like break-glass.
 */
export const handler = instrumented(async (event: unknown): Promise<APIGatewayProxyStructuredResultV2> => {
  let action: string | undefined;
  let caller: string | undefined;
  try {
    const request = parseOrThrow(FunctionUrlEventSchema, event, 'Function URL event');
    const userArn = request.requestContext.authorizer?.iam?.userArn;
    if (!userArn) throw new PolicyRefusedError('no verified IAM identity on the request');
    if (request.requestContext.http.method !== 'POST') {
      throw new ValidationError('request', [{ path: 'method', message: 'must be POST' }]);
    }
    const raw = rawBody(request.body, request.isBase64Encoded);
    const command = parseOrThrow(OperatorCommandSchema, parseBody(raw), 'operator command');
    action = command.action;
    caller = pseudonymOf(userArn);
    const principal = await provenPrincipal(request, userArn, raw, command.action, caller);
    const result = await operator.execute(command, principal);
    logger.info('operator action', { action, caller });
    return respond(200, { ok: true, result });
  } catch (error) {
    const envelope = failure(error);
    // Refusals name people (who asked, who may not approve): they are answered to the caller and
    // recorded in the incident's timeline, and logged by kind only. Failures are logged whole.
    if (envelope.error.kind === 'FAILURE') logger.error('operator action failed', { action, caller, ...describeError(error) });
    else logger.warn('operator action refused', { action, caller, kind: envelope.error.kind });
    return respond(HTTP_STATUS[envelope.error.kind], envelope);
  }
}, obs);

/**
 * The caller as logs show it: the role, and the session name (often a person's name or email
 * address) replaced by a stable pseudonym. Who did what, by name, is in the ledger.
 */
function pseudonymOf(arn: string): string {
  const slash = arn.lastIndexOf('/');
  return `${arn.slice(0, slash)}/~${createHash('sha256')
    .update(arn.slice(slash + 1).toLowerCase())
    .digest('hex')
    .slice(0, 12)}`;
}

/**
 * Who calls: the identity STS proves, which must be the one the URL verified. Without a valid proof
 * a pause still goes ahead, as an unverified principal; everything else is refused.
 */
async function provenPrincipal(
  request: FunctionUrlEvent,
  userArn: string,
  body: string,
  action: string,
  caller: string,
): Promise<Principal> {
  const proof = request.headers?.[CALLER_PROOF_HEADER];
  const audience = request.requestContext.domainName;
  try {
    if (!proof)
      throw new CallerProofError(
        `no caller proof (the ${CALLER_PROOF_HEADER} header): use the killswitch CLI, or sign one as shared/adapters/aws/caller-proof.ts describes`,
      );
    if (!audience) throw new CallerProofError('the request names no Function URL host to check the caller proof against');
    const proven = await services.callerProof.verify(proof, { audience, body });
    if (proven.arn !== userArn) throw new CallerProofError(`the caller proof is ${proven.arn}'s, but the request was signed as ${userArn}`);
    return operatorPrincipal(proven.arn, services.trust);
  } catch (error) {
    if (action !== 'pause' || !(error instanceof CallerProofError || error instanceof CallerProofUnavailableError)) throw error;
    logger.warn('pause without a valid caller proof: recorded as unverified', { caller, reason: error.message });
    return { id: `unverified:${userArn}`, verified: false };
  }
}

function rawBody(body: string | undefined, base64: boolean): string {
  if (!body) throw new ValidationError('request', [{ path: 'body', message: 'is required (a JSON operator command)' }]);
  return base64 ? Buffer.from(body, 'base64').toString('utf8') : body;
}

function parseBody(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    throw new ValidationError('request', [{ path: 'body', message: 'must be JSON' }]);
  }
}

function respond(statusCode: number, envelope: OperatorEnvelope): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(envelope) };
}
