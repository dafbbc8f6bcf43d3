import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { KILLSWITCH_SOURCE } from '../../schemas/domain-events.ts';
import { KillSwitchError } from '../../domain/errors.ts';
import type { DomainEvents } from '../../killswitch/ports.ts';

export class EventPublishError extends KillSwitchError {
  constructor(message: string) {
    super(message, 'FAILURE');
  }
}

/** Puts killswitch's own domain events on the bus. Failed entries are errors, so the caller retries. */
export class DomainEventPublisher implements DomainEvents {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
    private readonly source: string = KILLSWITCH_SOURCE,
  ) {}

  async publish(detailType: string, detail: object, resources: string[] = []): Promise<string> {
    const result = await this.client.send(
      new PutEventsCommand({
        Entries: [
          { EventBusName: this.busName, Source: this.source, DetailType: detailType, Detail: JSON.stringify(detail), Resources: resources },
        ],
      }),
    );
    const entry = result.Entries?.[0];
    if ((result.FailedEntryCount ?? 0) > 0 || !entry?.EventId) {
      throw new EventPublishError(
        `PutEvents rejected "${detailType}": ${entry?.ErrorCode ?? 'unknown'} ${entry?.ErrorMessage ?? ''}`.trim(),
      );
    }
    return entry.EventId;
  }
}
