import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { OperatorCommandSchema } from '#shared/schemas/operator.ts';
import { FunctionUrlEventSchema } from '#shared/schemas/aws-events.ts';
import { parseOrThrow, PolicyRefusedError, ValidationError } from '#shared/errors.ts';
import { OperatorActions } from '#shared/killswitch/operator.ts';
import { operatorPrincipal } from '#shared/killswitch/identity.ts';
import { operatorServices } from '#shared/runtime/composition.ts';
import { describeError, observability } from '#shared/runtime/observability.ts';
import { failure, HTTP_STATUS, type OperatorEnvelope } from './envelope.ts';

const { logger } = observability('operator');
const services = operatorServices();
const operator = new OperatorActions(services);

/**
 * Operator actions behind a Lambda Function URL with AWS_IAM auth. The principal is the IAM
 * identity that Lambda verified and put in the request context, never a field of the body, and
 * only a session of an operators role is an operator (the person is its bound session name).
 * (This function cannot be invoked directly: its resource policy allows invocation only through
 * the URL, so nobody can forge that context.)
 */
export const handler = async (event: unknown): Promise<APIGatewayProxyStructuredResultV2> => {
  try {
    const request = parseOrThrow(FunctionUrlEventSchema, event, 'Function URL event');
    const userArn = request.requestContext.authorizer?.iam?.userArn;
    if (!userArn) throw new PolicyRefusedError('no verified IAM identity on the request');
    if (request.requestContext.http.method !== 'POST') {
      throw new ValidationError('request', [{ path: 'method', message: 'must be POST' }]);
    }
    const body = parseBody(request.body, request.isBase64Encoded);
    const command = parseOrThrow(OperatorCommandSchema, body, 'operator command');
    const principal = operatorPrincipal(userArn, services.trust);
    const result = await operator.execute(command, principal);
    logger.info('operator action', { action: command.action, principal: userArn });
    return respond(200, { ok: true, result });
  } catch (error) {
    const envelope = failure(error);
    const log = envelope.error.kind === 'FAILURE' ? logger.error.bind(logger) : logger.warn.bind(logger);
    log('operator action refused or failed', describeError(error));
    return respond(HTTP_STATUS[envelope.error.kind], envelope);
  }
};

function parseBody(body: string | undefined, base64: boolean): unknown {
  if (!body) throw new ValidationError('request', [{ path: 'body', message: 'is required (a JSON operator command)' }]);
  try {
    return JSON.parse(base64 ? Buffer.from(body, 'base64').toString('utf8') : body);
  } catch {
    throw new ValidationError('request', [{ path: 'body', message: 'must be JSON' }]);
  }
}

function respond(statusCode: number, envelope: OperatorEnvelope): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(envelope) };
}
