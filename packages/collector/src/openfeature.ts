import {
  ErrorCode,
  OpenFeatureEventEmitter,
  ProviderEvents,
  StandardResolutionReasons,
  type JsonValue,
  type Provider,
  type ResolutionDetails,
} from '@openfeature/server-sdk';
import { KillSwitchGate, type KillSwitchGateOptions } from './gate.ts';

/** The one flag the killswitch provider serves. */
export const COLLECTION_ALLOWED_FLAG = 'collection-allowed';

/**
 * An OpenFeature server provider backed by a {@link KillSwitchGate}.
 *
 * `collection-allowed` resolves to the gate's decision. Stale or unreachable state resolves to
 * `false` as a value, never as an error: an error would make OpenFeature return the caller's
 * default, which might be `true`. Register it with `await OpenFeature.setProviderAndWait(provider)`
 * so that no evaluation happens before the first read.
 */
export class KillSwitchProvider implements Provider {
  readonly metadata = { name: 'killswitch' } as const;
  readonly runsOn = 'server';
  readonly events = new OpenFeatureEventEmitter();
  readonly gate: KillSwitchGate;
  #unsubscribe: (() => void) | undefined;

  constructor(gate: KillSwitchGate | KillSwitchGateOptions) {
    this.gate = gate instanceof KillSwitchGate ? gate : new KillSwitchGate(gate);
  }

  async initialize(): Promise<void> {
    // Never throws: a failed first read leaves the gate closed and the provider ready to say so.
    await this.gate.start();
    this.#unsubscribe = this.gate.onChange(() =>
      this.events.emit(ProviderEvents.ConfigurationChanged, { flagsChanged: [COLLECTION_ALLOWED_FLAG] }),
    );
  }

  async onClose(): Promise<void> {
    this.#unsubscribe?.();
    await this.gate.stop();
  }

  async resolveBooleanEvaluation(flagKey: string, defaultValue: boolean): Promise<ResolutionDetails<boolean>> {
    if (flagKey !== COLLECTION_ALLOWED_FLAG) return notFound(flagKey, defaultValue);
    const state = this.gate.state();
    return {
      value: state.allowed,
      variant: state.allowed ? 'collecting' : 'halted',
      reason: state.allowed
        ? StandardResolutionReasons.STATIC
        : state.stale
          ? StandardResolutionReasons.STALE
          : StandardResolutionReasons.DISABLED,
      flagMetadata: { status: state.status, stale: state.stale, ...(state.version ? { version: state.version } : {}) },
    };
  }

  async resolveStringEvaluation(flagKey: string, defaultValue: string): Promise<ResolutionDetails<string>> {
    return notFound(flagKey, defaultValue);
  }

  async resolveNumberEvaluation(flagKey: string, defaultValue: number): Promise<ResolutionDetails<number>> {
    return notFound(flagKey, defaultValue);
  }

  async resolveObjectEvaluation<T extends JsonValue>(flagKey: string, defaultValue: T): Promise<ResolutionDetails<T>> {
    return notFound(flagKey, defaultValue);
  }
}

function notFound<T>(flagKey: string, value: T): ResolutionDetails<T> {
  const isOurs = flagKey === COLLECTION_ALLOWED_FLAG;
  return {
    value,
    reason: StandardResolutionReasons.ERROR,
    errorCode: isOurs ? ErrorCode.TYPE_MISMATCH : ErrorCode.FLAG_NOT_FOUND,
    errorMessage: isOurs ? `${COLLECTION_ALLOWED_FLAG} is a boolean flag` : `killswitch serves only the "${COLLECTION_ALLOWED_FLAG}" flag`,
  };
}
