import {
  ErrorCode,
  OpenFeatureEventEmitter,
  ProviderEvents,
  StandardResolutionReasons,
  type JsonValue,
  type Provider,
  type ResolutionDetails,
} from '@openfeature/server-sdk';
import { AgentGate, type AgentGateOptions } from './gate.ts';

/** The one flag the agent provider serves (the same key as the collector SDK's provider). */
export const COLLECTION_ALLOWED_FLAG = 'collection-allowed';

/**
 * An OpenFeature provider (Node.js and Electron's main process, `@openfeature/server-sdk`) backed
 * by an {@link AgentGate}.
 *
 * `collection-allowed` resolves to the gate's decision. A missing, rejected or expired document
 * resolves to `false` as a value, never as an error: an error would make OpenFeature return the
 * caller's default, which might be `true`. Register it with
 * `await OpenFeature.setProviderAndWait(provider)` so that no evaluation happens before the first
 * fetch. In a browser renderer, call the gate's synchronous `allowed()` directly.
 */
export class AgentGateProvider implements Provider {
  readonly metadata = { name: 'killswitch-agent' } as const;
  readonly runsOn = 'server';
  readonly events = new OpenFeatureEventEmitter();
  readonly gate: AgentGate;
  #stopListening = () => {};

  constructor(gate: AgentGate | AgentGateOptions) {
    this.gate = gate instanceof AgentGate ? gate : new AgentGate(gate);
  }

  /** Never throws: a failed first fetch leaves the gate closed and the provider ready to say so. */
  async initialize(): Promise<void> {
    await this.gate.start();
    const changed = { flagsChanged: [COLLECTION_ALLOWED_FLAG] };
    const off = this.gate.onChange(() => this.events.emit(ProviderEvents.ConfigurationChanged, changed));
    this.#stopListening = () => void off();
  }

  async onClose(): Promise<void> {
    this.#stopListening();
    return this.gate.stop();
  }

  async resolveBooleanEvaluation(flagKey: string, defaultValue: boolean): Promise<ResolutionDetails<boolean>> {
    if (flagKey !== COLLECTION_ALLOWED_FLAG) return unsupported(flagKey, defaultValue);
    // allowed() first: the hot path's own check (a wall clock stepping back closes it).
    const allowed = this.gate.allowed();
    const { status, reason, validForMs, seq, version, allowed: fresh } = this.gate.state();
    const value = allowed && fresh;
    const why = value
      ? StandardResolutionReasons.STATIC
      : status === 'PAUSED'
        ? StandardResolutionReasons.DISABLED
        : StandardResolutionReasons.STALE;
    const flagMetadata = {
      status,
      reason,
      validForMs: Math.round(validForMs),
      ...(seq === undefined ? {} : { seq }),
      ...(version === undefined ? {} : { version }),
    };
    return { value, variant: value ? 'collecting' : 'halted', reason: why, flagMetadata };
  }

  /** The agent serves one boolean flag: every other type or key is an error (OpenFeature returns the default). */
  resolveStringEvaluation = unsupported<string>;
  resolveNumberEvaluation = unsupported<number>;
  resolveObjectEvaluation = <T extends JsonValue>(flagKey: string, defaultValue: T) => unsupported(flagKey, defaultValue);
}

async function unsupported<T>(flagKey: string, value: T): Promise<ResolutionDetails<T>> {
  const ours = flagKey === COLLECTION_ALLOWED_FLAG;
  const errorMessage = ours
    ? `${COLLECTION_ALLOWED_FLAG} is a boolean flag`
    : `killswitch serves only the "${COLLECTION_ALLOWED_FLAG}" flag`;
  return {
    value,
    reason: StandardResolutionReasons.ERROR,
    errorCode: ours ? ErrorCode.TYPE_MISMATCH : ErrorCode.FLAG_NOT_FOUND,
    errorMessage,
  };
}
