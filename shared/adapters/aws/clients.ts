import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/*
 * The DynamoDB client factory. Endpoints are never set here or where the compositions
 * (shared/runtime/*-services.ts) build their EventBridge, SNS and SQS clients, with the SDK's
 * defaults: the SDK reads the standard AWS_ENDPOINT_URL_<SERVICE> variables itself, which is how
 * the local stack points the very same code at dynalite, fauxqs and the local event bus. (One
 * module per client: a function bundles only the clients it builds.)
 */

/**
 * DynamoDB throttles by partition and answers 5xx now and then; the SDK's default of 3 attempts
 * lets one in a few hundred throttled calls fail at a 15 % throttle rate. Six attempts (backoff
 * up to about 3 s in all) make that one in a hundred thousand. (Collector gates use their own
 * client with fewer attempts: they must fail closed fast, not wait.)
 */
export const DYNAMODB_MAX_ATTEMPTS = 6;

export function dynamoDocumentClient(config: DynamoDBClientConfig = {}): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient({ maxAttempts: DYNAMODB_MAX_ATTEMPTS, ...config }), {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
}
