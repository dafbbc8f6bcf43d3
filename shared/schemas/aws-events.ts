import { z } from './z.ts';

/**
 * The AWS event envelopes our functions receive, with the fields we rely on. (Powertools' parser
 * ships the same schemas, but they import zod's whole namespace: about 360 KB more in every
 * bundle, paid on every cold start.) Unknown fields are tolerated: AWS adds fields over time.
 */
export const EventBridgeEnvelopeSchema = z.object({
  version: z.string(),
  id: z.string(),
  source: z.string(),
  account: z.string(),
  time: z.iso.datetime(),
  region: z.string(),
  resources: z.array(z.string()),
  'detail-type': z.string(),
  detail: z.unknown(),
  'replay-name': z.string().optional(),
});

/** A Lambda Function URL request (payload format 2.0), as far as the operator function reads it. */
export const FunctionUrlEventSchema = z.object({
  version: z.literal('2.0'),
  rawPath: z.string(),
  headers: z.record(z.string(), z.string()).optional(),
  requestContext: z.object({
    accountId: z.string(),
    requestId: z.string(),
    /** The host the caller addressed (`<url-id>.lambda-url.<region>.on.aws`): the audience of caller proofs. */
    domainName: z.string().optional(),
    http: z.object({ method: z.string(), path: z.string(), sourceIp: z.string() }),
    /** Present with AWS_IAM auth: the identity Lambda verified. */
    authorizer: z.object({ iam: z.object({ userArn: z.string().optional(), accountId: z.string().optional() }).optional() }).optional(),
  }),
  body: z.string().optional(),
  isBase64Encoded: z.boolean(),
});
export type FunctionUrlEvent = z.infer<typeof FunctionUrlEventSchema>;
