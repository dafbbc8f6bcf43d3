import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ProgramStateSchema, type ProgramState } from '../../schemas/program-state.ts';
import type { FlipInput, FlipResult, ProgramStates, ResumeInput, StoredState } from '../../killswitch/ports.ts';
import { GLOBAL_SCOPE } from '../../schemas/common.ts';
import { StateConflictError } from '../../domain/errors.ts';
import { conditionally, isConditionalCheckFailed } from './dynamo.ts';

/** How many times a pause retries when the scope changes under it (a resume landing between its two writes). */
const MAX_FLIP_ROUNDS = 5;

/**
 * The kill switch flag: one item per program and scope in the ProgramState table.
 *
 * Every change is a single conditional UpdateItem (no transactions, streams or TTL), so concurrent
 * writers never lose an update and the version only ever grows by one per change. The item is what
 * every collector reads, so it holds ids, kinds and counts only: who paused and why is in the ledger.
 */
export class ProgramStateStore implements ProgramStates {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * Pause a scope, or register this attempt with the pause already in place. The first write is the
   * flip itself; only when its condition fails does it read the item, to say why.
   */
  async pause(input: FlipInput): Promise<FlipResult> {
    for (let round = 0; round < MAX_FLIP_ROUNDS; round++) {
      const flipped = await this.#flip(input);
      if (flipped) return { outcome: 'PAUSED', state: flipped, wrote: true };
      const current = await this.get(input.programId, input.scope);
      if (!current) continue;
      if (current.closedCauses.includes(input.incidentId) || (input.causeKey && current.closedCauses.includes(input.causeKey))) {
        return { outcome: 'CLOSED', state: current.state };
      }
      if (current.state.status !== 'PAUSED') continue; // resumed between the two writes: flip again
      // Register the attempt (a no-op for one registered before), so a resume requested before it refuses.
      if (await this.#link(input, current.state.version)) {
        return current.state.incidentId === input.incidentId
          ? { outcome: 'PAUSED', state: current.state, wrote: false }
          : { outcome: 'LINKED', state: current.state };
      }
    }
    throw new StateConflictError(`${input.programId}/${input.scope} kept changing during a pause; the pause will be retried`);
  }

  async #flip(input: FlipInput): Promise<ProgramState | undefined> {
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { programId: input.programId, scope: input.scope },
          UpdateExpression:
            'SET #status = :paused, #version = if_not_exists(#version, :zero) + :one, changedAt = :at, ' +
            // The holder's own attempt is the first link: its redeliveries then change nothing (and
            // refuse no pending resume); every other attempt adds one.
            'changedBy = :by, changedByVerified = :verified, reason = :reason, #trigger = :trigger, incidentId = :incident, pauseLinks = :self ' +
            'REMOVE resumeRequestId',
          ConditionExpression:
            '(attribute_not_exists(#status) OR #status = :active) AND NOT contains(closedCauses, :incident)' +
            (input.causeKey ? ' AND NOT contains(closedCauses, :cause)' : ''),
          ExpressionAttributeNames: { '#status': 'status', '#version': 'version', '#trigger': 'trigger' },
          ExpressionAttributeValues: {
            ':paused': 'PAUSED',
            ':active': 'ACTIVE',
            ':zero': 0,
            ':one': 1,
            ':at': input.at.toISOString(),
            ':by': input.trigger.toLowerCase().replace('_', '-'),
            ':verified': input.verified,
            ':reason': input.summary,
            ':trigger': input.trigger,
            ':incident': input.incidentId,
            ':self': new Set([input.attemptId]),
            ...(input.causeKey ? { ':cause': input.causeKey } : {}),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toState(Attributes);
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      return undefined;
    }
  }

  /** Register a pause attempt with the pause in place (still PAUSED at `version`). */
  #link(input: FlipInput, version: number): Promise<boolean> {
    return conditionally(() =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { programId: input.programId, scope: input.scope },
          UpdateExpression: 'ADD pauseLinks :attempt',
          ConditionExpression: '#status = :paused AND #version = :version',
          ExpressionAttributeNames: { '#status': 'status', '#version': 'version' },
          ExpressionAttributeValues: { ':attempt': new Set([input.attemptId]), ':paused': 'PAUSED', ':version': version },
        }),
      ),
    );
  }

  /**
   * After a pause written under a provisional incident id (a report whose day differs from its
   * anomaly's first), name the incident that records it. No new version: the same pause.
   */
  relabel(programId: string, scope: string, version: number, from: string, to: string): Promise<boolean> {
    return conditionally(() =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { programId, scope },
          UpdateExpression: 'SET incidentId = :to',
          ConditionExpression: '#version = :version AND incidentId = :from',
          ExpressionAttributeNames: { '#version': 'version' },
          ExpressionAttributeValues: { ':to': to, ':from': from, ':version': version },
        }),
      ),
    );
  }

  /**
   * Resume a scope, only if it is still paused at the version, and with the pause attempts, that the
   * request saw. A retried approval that already applied is recognised by its request id.
   */
  async resume(input: ResumeInput): Promise<ProgramState> {
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { programId: input.programId, scope: input.scope },
          UpdateExpression:
            'SET #status = :activeStatus, #version = #version + :one, changedAt = :at, changedBy = :by, ' +
            'changedByVerified = :verified, reason = :reason, #trigger = :trigger, resumeRequestId = :request, lastResume = :last REMOVE pauseLinks' +
            (input.closes.length ? ' ADD closedCauses :closed' : ''),
          ConditionExpression:
            '#version = :expected AND #status = :paused AND ' +
            (input.expectedLinks ? 'size(pauseLinks) = :links' : 'attribute_not_exists(pauseLinks)'),
          ExpressionAttributeNames: { '#status': 'status', '#version': 'version', '#trigger': 'trigger' },
          ExpressionAttributeValues: {
            ':activeStatus': 'ACTIVE',
            ':paused': 'PAUSED',
            ':one': 1,
            ':expected': input.expectedVersion,
            ':at': input.at.toISOString(),
            ':by': 'resume',
            ':verified': true,
            ':reason': `resumed by two-person request ${input.requestId}`,
            ':trigger': 'RESUME',
            ':request': input.requestId,
            ':last': { requestId: input.requestId, version: input.expectedVersion + 1, at: input.at.toISOString() },
            ...(input.expectedLinks ? { ':links': input.expectedLinks } : {}),
            ...(input.closes.length ? { ':closed': new Set(input.closes) } : {}),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toState(Attributes);
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
    const current = await this.get(input.programId, input.scope);
    if (current && current.state.resumeRequestId === input.requestId && current.state.version === input.expectedVersion + 1)
      return current.state;
    // Applied by an earlier attempt, and paused again since: the state as that resume left it.
    if (current?.lastResume?.requestId === input.requestId) {
      const { version, at } = current.lastResume;
      return {
        programId: input.programId,
        scope: input.scope,
        status: 'ACTIVE',
        version,
        changedAt: at,
        changedBy: 'resume',
        changedByVerified: true,
        reason: `resumed by two-person request ${input.requestId}`,
        trigger: 'RESUME',
        resumeRequestId: input.requestId,
      };
    }
    throw new StateConflictError(
      `${input.programId}/${input.scope} changed since the resume was requested: ${describeChange(input, current)}`,
    );
  }

  /** Create the program's global scope as ACTIVE at version 1, unless it already exists. */
  async register(programId: string, at: Date): Promise<boolean> {
    return conditionally(() =>
      this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            programId,
            scope: GLOBAL_SCOPE,
            status: 'ACTIVE',
            version: 1,
            changedAt: at.toISOString(),
            changedBy: 'seed',
            changedByVerified: true,
            reason: 'program registered',
            trigger: 'SEED',
          },
          ConditionExpression: 'attribute_not_exists(programId)',
        }),
      ),
    );
  }

  async get(programId: string, scope: string): Promise<StoredState | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { programId, scope }, ConsistentRead: true }));
    if (!Item) return undefined;
    return {
      state: toState(Item),
      closedCauses: [...((Item.closedCauses as Set<string> | undefined) ?? [])],
      links: (Item.pauseLinks as Set<string> | undefined)?.size ?? 0,
      ...(isLastResume(Item.lastResume) ? { lastResume: Item.lastResume } : {}),
    };
  }

  /** Every scope of a program, strongly consistent. */
  async list(programId: string): Promise<ProgramState[]> {
    const states: ProgramState[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'programId = :p',
          ExpressionAttributeValues: { ':p': programId },
          ConsistentRead: true,
          ExclusiveStartKey,
        }),
      );
      for (const item of page.Items ?? []) states.push(toState(item));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return states;
  }
}

function describeChange(input: ResumeInput, current: StoredState | undefined): string {
  if (!current) return 'its state is missing';
  const { state, links } = current;
  if (state.status !== 'PAUSED') return `it is ${state.status} at version ${state.version}, not PAUSED at version ${input.expectedVersion}`;
  if (state.version !== input.expectedVersion) return `it was paused again (version ${input.expectedVersion} → ${state.version})`;
  return `${links - input.expectedLinks} newer pause attempt(s) reached it after the request (incident ${state.incidentId ?? '?'} holds it)`;
}

function isLastResume(v: unknown): v is NonNullable<StoredState['lastResume']> {
  const r = v as StoredState['lastResume'];
  return (
    typeof r === 'object' && r !== null && typeof r.requestId === 'string' && typeof r.version === 'number' && typeof r.at === 'string'
  );
}

function toState(item: Record<string, unknown> | undefined): ProgramState {
  return ProgramStateSchema.parse(item);
}
