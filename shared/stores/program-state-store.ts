import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ProgramStateSchema, type ProgramState, type StateTrigger } from '../schemas/program-state.ts';
import type { Principal } from '../schemas/common.ts';
import { GLOBAL_SCOPE } from '../schemas/common.ts';
import { StateConflictError } from '../errors.ts';
import { conditionally, isConditionalCheckFailed } from './dynamo.ts';

export interface PauseInput {
  programId: string;
  scope: string;
  incidentId: string;
  reason: string;
  changedBy: Principal;
  trigger: StateTrigger;
  at: Date;
}

export type PauseResult =
  /** This call flipped the flag. */
  | { outcome: 'PAUSED'; state: ProgramState }
  /** The scope was already paused (by this incident or another): nothing changed. */
  | { outcome: 'ALREADY_PAUSED'; state: ProgramState }
  /** The incident was closed by an approved resume: a late redelivery must not pause again. */
  | { outcome: 'INCIDENT_CLOSED'; state: ProgramState };

export interface ResumeInput {
  programId: string;
  scope: string;
  expectedVersion: number;
  requestId: string;
  reason: string;
  changedBy: Principal;
  /** Incidents this resume closes; a later redelivery of their anomalies will not pause again. */
  closesIncidentIds: string[];
  at: Date;
}

/**
 * The kill switch flag: one item per program and scope in the ProgramState table.
 *
 * Every change is a single conditional UpdateItem (no transactions, streams or TTL), so
 * concurrent writers never lose an update and the version only ever grows by one per change.
 */
export class ProgramStateStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * Pause a scope. One UpdateItem; only on a failed condition does it read the item to say why.
   * Pausing a paused scope is not an error.
   */
  async pause(input: PauseInput): Promise<PauseResult> {
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { programId: input.programId, scope: input.scope },
          UpdateExpression:
            'SET #status = :paused, #version = if_not_exists(#version, :zero) + :one, changedAt = :at, ' +
            'changedBy = :by, changedByVerified = :verified, reason = :reason, #trigger = :trigger, incidentId = :incident ' +
            'REMOVE resumeRequestId',
          ConditionExpression:
            '(attribute_not_exists(#status) OR #status = :active) AND NOT contains(closedIncidentIds, :incident)',
          ExpressionAttributeNames: { '#status': 'status', '#version': 'version', '#trigger': 'trigger' },
          ExpressionAttributeValues: {
            ':paused': 'PAUSED',
            ':active': 'ACTIVE',
            ':zero': 0,
            ':one': 1,
            ':at': input.at.toISOString(),
            ':by': input.changedBy.id,
            ':verified': input.changedBy.verified,
            ':reason': input.reason,
            ':trigger': input.trigger,
            ':incident': input.incidentId,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { outcome: 'PAUSED', state: toState(Attributes) };
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
    const current = await this.get(input.programId, input.scope);
    if (!current) throw new StateConflictError(`state of ${input.programId}/${input.scope} vanished during a pause`);
    if (current.closedIncidentIds.includes(input.incidentId)) return { outcome: 'INCIDENT_CLOSED', state: current.state };
    return { outcome: 'ALREADY_PAUSED', state: current.state };
  }

  /**
   * Resume a scope, only if it is still at the version the resume request saw.
   * A retried approval that already applied is recognised by its request id and returns the state.
   */
  async resume(input: ResumeInput): Promise<ProgramState> {
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { programId: input.programId, scope: input.scope },
          UpdateExpression:
            'SET #status = :activeStatus, #version = #version + :one, changedAt = :at, changedBy = :by, ' +
            'changedByVerified = :verified, reason = :reason, #trigger = :trigger, resumeRequestId = :request ' +
            (input.closesIncidentIds.length ? 'ADD closedIncidentIds :closed' : ''),
          ConditionExpression: '#version = :expected AND #status = :paused',
          ExpressionAttributeNames: { '#status': 'status', '#version': 'version', '#trigger': 'trigger' },
          ExpressionAttributeValues: {
            ':activeStatus': 'ACTIVE',
            ':paused': 'PAUSED',
            ':one': 1,
            ':expected': input.expectedVersion,
            ':at': input.at.toISOString(),
            ':by': input.changedBy.id,
            ':verified': input.changedBy.verified,
            ':reason': input.reason,
            ':trigger': 'RESUME',
            ':request': input.requestId,
            ...(input.closesIncidentIds.length ? { ':closed': new Set(input.closesIncidentIds) } : {}),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toState(Attributes);
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
    const current = await this.get(input.programId, input.scope);
    if (current && current.state.resumeRequestId === input.requestId && current.state.version === input.expectedVersion + 1) {
      return current.state;
    }
    const now = current ? `${current.state.status} at version ${current.state.version}` : 'missing';
    throw new StateConflictError(
      `${input.programId}/${input.scope} changed since the resume was requested (expected PAUSED at version ${input.expectedVersion}, found ${now})`,
    );
  }

  /** Create the program's global scope as ACTIVE at version 1, unless it already exists. */
  async register(programId: string, by: Principal, at: Date): Promise<boolean> {
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
            changedBy: by.id,
            changedByVerified: by.verified,
            reason: 'program registered',
            trigger: 'SEED',
          },
          ConditionExpression: 'attribute_not_exists(programId)',
        }),
      ),
    );
  }

  async get(programId: string, scope: string): Promise<{ state: ProgramState; closedIncidentIds: string[] } | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { programId, scope }, ConsistentRead: true }),
    );
    if (!Item) return undefined;
    return { state: toState(Item), closedIncidentIds: [...((Item.closedIncidentIds as Set<string> | undefined) ?? [])] };
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

function toState(item: Record<string, unknown> | undefined): ProgramState {
  return ProgramStateSchema.parse(item);
}
