import { randomUUID } from 'node:crypto';
import type { LocalFunctions } from './functions.ts';
import type { HttpHandler, HttpReply } from './http.ts';

const json = (status: number, body: unknown, headers: Record<string, string> = {}): HttpReply => ({
  status,
  headers,
  body: JSON.stringify(body),
});

/**
 * The Lambda Invoke API (`POST /2015-03-31/functions/{name}/invocations`) for the local
 * functions, so that the CLI's real Lambda client works against it. A function that the
 * deployed resource policy lets operators invoke only through its Function URL is refused
 * here, exactly as AWS refuses it.
 */
export function lambdaInvokeApi(functions: LocalFunctions): HttpHandler {
  return async ({ method, url, headers, body }) => {
    const match = /^\/2015-03-31\/functions\/([^/]+)\/invocations/.exec(url);
    if (method !== 'POST' || !match)
      return json(404, { Message: `unsupported Lambda API call ${method} ${url}` }, { 'x-amzn-ErrorType': 'ResourceNotFoundException' });
    const name = decodeURIComponent(match[1]!);
    const fn = functions.get(name);
    if (!fn) return json(404, { Message: `Function not found: ${name}` }, { 'x-amzn-ErrorType': 'ResourceNotFoundException' });
    if (fn.spec.urlAuthType) {
      return json(
        403,
        { Message: `not authorized to perform lambda:InvokeFunction on ${fn.spec.name}: it may be invoked only through its Function URL` },
        { 'x-amzn-ErrorType': 'AccessDeniedException' },
      );
    }
    let event: unknown;
    try {
      event = body ? JSON.parse(body) : {};
    } catch {
      return json(400, { Message: 'Could not parse request body into json' }, { 'x-amzn-ErrorType': 'InvalidRequestContentException' });
    }
    const requestId = randomUUID();
    if (String(headers['x-amz-invocation-type'] ?? '') === 'Event') {
      functions.invokeAsync(fn.spec.name, event);
      return { status: 202, headers: { 'x-amzn-RequestId': requestId }, body: '' };
    }
    try {
      const result = await functions.invoke(fn.spec.name, event);
      return json(200, result ?? null, { 'x-amzn-RequestId': requestId, 'X-Amz-Executed-Version': '$LATEST' });
    } catch (error) {
      const e = error instanceof Error ? error : new Error(String(error));
      return json(
        200,
        { errorType: e.name, errorMessage: e.message },
        { 'x-amzn-RequestId': requestId, 'X-Amz-Function-Error': 'Unhandled' },
      );
    }
  };
}

/** Header that stands in for SigV4 on the local stack: the IAM principal AWS would have verified. */
export const LOCAL_PRINCIPAL_HEADER = 'x-killswitch-as';

/**
 * A Function URL locally; with AuthType NONE anyone may call it (the function authenticates).
 * With AWS_IAM auth: In AWS, Lambda verifies the SigV4 signature and
 * puts the caller's ARN in `requestContext.authorizer.iam`; here the caller names the principal
 * in a header, which only the local stack accepts. Without it the request is refused (403).
 */
export function functionUrl(
  functions: LocalFunctions,
  name: string,
  account: string,
  options: { auth: 'AWS_IAM' | 'NONE' } = { auth: 'AWS_IAM' },
): HttpHandler {
  return async ({ method, url, headers, body }) => {
    const principal = headers[LOCAL_PRINCIPAL_HEADER];
    if (options.auth === 'AWS_IAM' && (typeof principal !== 'string' || !principal)) {
      return json(403, { Message: `Forbidden: the local stack needs the ${LOCAL_PRINCIPAL_HEADER} header (the CLI sets it with --as)` });
    }
    const [rawPath, rawQueryString = ''] = url.split('?');
    const now = new Date();
    const requestId = randomUUID();
    const event = {
      version: '2.0',
      routeKey: '$default',
      rawPath,
      rawQueryString,
      headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : String(v)])),
      requestContext: {
        accountId: account,
        apiId: 'local',
        ...(options.auth === 'AWS_IAM'
          ? { authorizer: { iam: { accessKey: 'LOCAL', accountId: account, callerId: 'LOCAL', userArn: principal, userId: 'LOCAL' } } }
          : {}),
        // The host the caller addressed, as in AWS (caller proofs name it as their audience).
        domainName: String(headers.host ?? 'local.lambda-url.on.aws'),
        domainPrefix: 'local',
        http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: String(headers['user-agent'] ?? '') },
        requestId,
        routeKey: '$default',
        stage: '$default',
        time: now.toUTCString(),
        timeEpoch: now.getTime(),
      },
      body,
      isBase64Encoded: false,
    };
    try {
      const result = (await functions.invoke(name, event)) as { statusCode?: number; headers?: Record<string, string>; body?: string };
      return { status: result.statusCode ?? 200, headers: result.headers ?? {}, body: result.body ?? '' };
    } catch (error) {
      return json(502, { Message: `Internal Server Error: ${(error as Error).message}` });
    }
  };
}
