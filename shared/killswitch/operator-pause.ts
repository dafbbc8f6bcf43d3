import { createHash, randomUUID } from 'node:crypto';
import type { Principal } from '../schemas/common.ts';
import type { ProgramConfig } from '../schemas/config.ts';
import type { Incident } from '../schemas/ledger.ts';
import type { PauseCommand } from '../schemas/operator.ts';
import type { ProgramState } from '../schemas/program-state.ts';
import { NotFoundError, StateConflictError, UnknownProgramError, ValidationError } from '../domain/errors.ts';
import { incidentIdFor, newIncidentId } from '../domain/ids.ts';
import { datasetsOfScope, declaredScopes, isDeclaredScope } from '../domain/scopes.ts';
import { PauseProgram, type PauseDeps, type PauseOrder } from './pause.ts';
import type { Clock, Programs } from './ports.ts';

export interface OperatorPauseDeps extends PauseDeps {
  programs: Programs;
  /** For a dry run: how many grants a revocation of a dataset would revoke now. */
  grants?: { countRevocable(datasetId: string): Promise<number> };
  clock?: Clock;
}

export interface PauseView {
  action: 'pause';
  /** PAUSED: this pause wrote the version. ALREADY_PAUSED: the scope was paused (it is now linked). Either way the stored state is PAUSED. */
  outcome: 'PAUSED' | 'ALREADY_PAUSED';
  incidentId: string;
  state: ProgramState;
  /** The closed incident this pause was asked to name; a new incident linked to it records the pause. */
  reopenedFrom?: string;
}

export interface DryRunView {
  action: 'pause';
  dryRun: true;
  programId: string;
  scope: string;
  /** What collection stops: the scope, and whether it is already paused. */
  wouldStop: { scope: string; currentStatus: 'ACTIVE' | 'PAUSED'; collectors: string };
  /** What access is revoked: the datasets the scope exposes, and the grants revocation would remove now. */
  wouldRevoke: { datasetId: string; grants?: number }[];
}

/** Each pause may be reopened this many times (a named incident closed, then its reopening closed as well) before it gives up. */
const MAX_REOPENINGS = 3;

/**
 * Use case: a person on call pauses a program scope (or break-glass does, unverified).
 *
 * 1. Check the program and that it declares the scope (a scope no collector watches pauses nothing:
 *    refused, naming the declared ones). A dry run stops here and says what would stop and what
 *    would be revoked.
 * 2. Pause through the one pause path, recorded in the named incident or in a new one.
 * 3. If the named incident was closed by a resume, pausing is still allowed: a new incident linked
 *    to the closed one records it.
 * It answers only once the stored state is PAUSED at a version it wrote or observed.
 */
export class OperatorPause {
  readonly #clock: Clock;
  readonly #pauses: PauseProgram;
  constructor(private readonly deps: OperatorPauseDeps) {
    this.#clock = deps.clock ?? (() => new Date());
    this.#pauses = new PauseProgram(deps);
  }

  async pause(command: PauseCommand, principal: Principal): Promise<PauseView | DryRunView> {
    const program = this.deps.programs.find(command.programId);
    if (!program) throw new UnknownProgramError(command.programId);
    if (!isDeclaredScope(program, command.scope)) {
      throw new ValidationError('pause command', [
        {
          path: 'scope',
          message: `"${command.scope}" is not a scope of program ${program.programId}; its scopes are ${declaredScopes(program).join(', ')}`,
        },
      ]);
    }
    if (command.dryRun) return this.#dryRun(program, command.scope);

    const at = this.#clock();
    const named = command.incidentId ? await this.deps.incidents.get(command.incidentId) : undefined;
    if (command.incidentId && !named) throw new NotFoundError(`incident ${command.incidentId} does not exist`);
    if (named && named.programId !== program.programId) {
      throw new ValidationError('pause command', [
        { path: 'incidentId', message: `belongs to program ${named.programId}, not ${program.programId}` },
      ]);
    }
    // The same command retried (its idempotency key) is the same attempt and the same incident.
    const seed = command.idempotencyKey
      ? `${principal.person ?? principal.id}/${program.programId}/${command.scope}/${command.idempotencyKey}`
      : randomUUID();
    const trigger = principal.verified ? 'OPERATOR' : 'BREAK_GLASS';
    // The named incident records this pause only if it is an open pause of this very scope. One that
    // was only recorded, concerns another scope, or is closed gets a new incident linked to it, so
    // that what the incident says (paused, which datasets) is what this pause did.
    const reuse = named !== undefined && named.status === 'OPEN' && named.action !== 'RECORDED' && named.scope === command.scope;
    let incidentId = reuse
      ? named.incidentId
      : command.idempotencyKey
        ? incidentIdFor(named ? `${seed}/after/${named.incidentId}` : seed, at)
        : newIncidentId(at);
    let reopenedFrom: string | undefined = named && named.status !== 'OPEN' ? named.incidentId : undefined;
    const linkedFrom = named && !reuse ? named.incidentId : undefined;

    for (let reopening = 0; reopening <= MAX_REOPENINGS; reopening++) {
      const order: PauseOrder = {
        program,
        scope: command.scope,
        incidentId,
        attemptId: `op:${createHash('sha256').update(`${seed}#${reopening}`).digest('hex').slice(0, 24)}`,
        trigger,
        severity: 'CRITICAL',
        actor: principal,
        reason: command.reason,
      };
      const flip = await this.#pauses.flip(order);
      if (flip.outcome === 'CLOSED') {
        // Pausing is always allowed: the closed incident stays closed, a new one linked to it records this pause.
        reopenedFrom = incidentId;
        incidentId = incidentIdFor(`${seed}/after/${incidentId}`, at);
        continue;
      }
      const incident: Incident =
        reuse && !reopenedFrom
          ? named
          : {
              incidentId,
              programId: program.programId,
              scope: command.scope,
              severity: 'CRITICAL',
              status: 'OPEN',
              action: flip.outcome === 'PAUSED' ? 'PAUSED' : 'LINKED',
              openedAt: at.toISOString(),
              openedBy: principal.id,
              ...(principal.person ? { openedByPerson: principal.person } : {}),
              trigger,
              summary: command.reason,
              datasetIds: datasetsOfScope(program, command.scope),
              unknownDatasetIds: [],
              stateVersion: flip.state.version,
              linkedIncidentId: reopenedFrom ?? linkedFrom ?? (flip.outcome === 'LINKED' ? flip.state.incidentId : undefined),
              notify: program.notify,
              revision: 1,
              inputIssues: [],
            };
      const paused = await this.#pauses.record(order, flip, incident, {
        subject: `[killswitch] ${program.programId} paused by ${trigger === 'OPERATOR' ? 'an operator' : 'break-glass'}`,
        lines: [
          `Incident: ${incidentId}${reopenedFrom ? ` (continues ${reopenedFrom}, which a resume had closed)` : ''}`,
          `Program:  ${program.programId} (scope ${command.scope}) ${paused_(flip.outcome)} at version ${flip.state.version}`,
          `By:       ${principal.id}${principal.verified ? '' : ' (break-glass, identity not verified)'}`,
        ],
      });
      return {
        action: 'pause',
        outcome: paused.outcome === 'PAUSED' ? 'PAUSED' : 'ALREADY_PAUSED',
        incidentId,
        state: paused.state,
        ...(reopenedFrom ? { reopenedFrom } : {}),
      };
    }
    throw new StateConflictError(
      `${program.programId}/${command.scope}: every incident this pause named was closed while it ran; pause again`,
    );
  }

  async #dryRun(program: ProgramConfig, scope: string): Promise<DryRunView> {
    const current = await this.deps.state.get(program.programId, scope);
    const datasets = datasetsOfScope(program, scope);
    return {
      action: 'pause',
      dryRun: true,
      programId: program.programId,
      scope,
      wouldStop: {
        scope,
        currentStatus: current?.state.status ?? 'ACTIVE',
        collectors:
          scope === '*'
            ? `every collector of ${program.programId}`
            : `the collectors of ${program.programId} in ${scope} (and those that declare no scope)`,
      },
      wouldRevoke: await Promise.all(
        datasets.map(async (datasetId) => ({
          datasetId,
          ...(this.deps.grants ? { grants: await this.deps.grants.countRevocable(datasetId) } : {}),
        })),
      ),
    };
  }
}

const paused_ = (outcome: 'PAUSED' | 'LINKED') => (outcome === 'PAUSED' ? 'PAUSED' : 'already PAUSED (linked)');
