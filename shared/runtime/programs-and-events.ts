import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DomainEventPublisher } from '../adapters/aws/domain-event-publisher.ts';
import { ProgramRegistry } from './env.ts';

/** The deployed programs and the domain bus. */
export const programsAndEvents = (env: {
  KILLSWITCH_PROGRAMS: ConstructorParameters<typeof ProgramRegistry>[0];
  EVENT_BUS_NAME: string;
}) => ({
  programs: new ProgramRegistry(env.KILLSWITCH_PROGRAMS),
  events: new DomainEventPublisher(new EventBridgeClient({}), env.EVENT_BUS_NAME),
});
