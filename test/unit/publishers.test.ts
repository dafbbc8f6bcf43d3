import { describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { DomainEventPublisher, EventPublishError } from '#shared/adapters/aws/domain-event-publisher.ts';
import { OperatorAlerts } from '#shared/adapters/aws/operator-alerts.ts';

describe('Class: DomainEventPublisher', () => {
  it('puts the event on the bus with source killswitch', async () => {
    // Prepare
    const client = new EventBridgeClient({});
    const eb = mockClient(client);
    eb.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
    // Act
    const id = await new DomainEventPublisher(client, 'bus').publish('Kill Switch Engaged', { incidentId: 'i' });
    // Assess
    expect(id).toBe('e-1');
    expect(eb).toHaveReceivedCommandWith(PutEventsCommand, {
      Entries: [
        expect.objectContaining({
          EventBusName: 'bus',
          Source: 'killswitch',
          DetailType: 'Kill Switch Engaged',
          Detail: '{"incidentId":"i"}',
        }),
      ],
    });
  });

  it('throws when EventBridge reports a failed entry, so the caller retries', async () => {
    const client = new EventBridgeClient({});
    mockClient(client)
      .on(PutEventsCommand)
      .resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }] });
    await expect(new DomainEventPublisher(client, 'bus').publish('X', {})).rejects.toThrow(EventPublishError);
  });
});

describe('Class: OperatorAlerts', () => {
  it('publishes ids and counts with message attributes, subject capped at 100 characters', async () => {
    const client = new SNSClient({});
    const sns = mockClient(client);
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
    await new OperatorAlerts(client, 'arn:topic').send({
      subject: 'x'.repeat(150),
      lines: ['a', 'b'],
      severity: 'HIGH',
      programId: 'mci',
      incidentId: 'inc',
    });
    const input = sns.commandCalls(PublishCommand)[0]!.args[0].input;
    expect(input.Subject).toHaveLength(100);
    expect(input.Message).toBe('a\nb');
    expect(input.MessageAttributes).toEqual({
      severity: { DataType: 'String', StringValue: 'HIGH' },
      programId: { DataType: 'String', StringValue: 'mci' },
      incidentId: { DataType: 'String', StringValue: 'inc' },
    });
  });
});
