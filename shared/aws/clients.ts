import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';

/*
 * Client factories. Endpoints are never set here: the SDK reads the standard
 * AWS_ENDPOINT_URL_<SERVICE> variables itself, which is how the local stack points the very
 * same code at dynalite, fauxqs and the local event bus.
 */

export function dynamoDocumentClient(config: DynamoDBClientConfig = {}): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient(config), {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
}

export const eventBridgeClient = (): EventBridgeClient => new EventBridgeClient({});
export const snsClient = (): SNSClient => new SNSClient({});
export const sqsClient = (): SQSClient => new SQSClient({});
