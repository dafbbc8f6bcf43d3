import { GLOBAL_SCOPE, ProgramStateSchema, type ProgramState } from './state.ts';

export interface Evaluation {
  allowed: boolean;
  status: 'ACTIVE' | 'PAUSED' | 'UNKNOWN';
  /** Version of the item that decided: the paused scope, or the global scope when active. */
  version: number | undefined;
  reason: string;
  /** The scope that stopped collection, when one did. */
  pausedScope?: string;
}

/**
 * Decide from a program's state items whether a collector in `scopes` may collect.
 * Fail closed: a missing global item or any malformed item that concerns the collector
 * means "stop". A paused global scope stops every collector; a paused category or region
 * stops the collectors in it. Scoped items that do not exist have never been paused. A collector
 * that declares no scopes cannot show it is outside a paused scope: any paused scope stops it.
 */
export function evaluate(items: readonly unknown[], programId: string, scopes: readonly string[]): Evaluation {
  const relevant = new Map<string, ProgramState>();
  for (const raw of items) {
    const scope = (raw as { scope?: unknown } | null)?.scope;
    if (scopes.length && scope !== GLOBAL_SCOPE && !scopes.includes(scope as string)) continue;
    const parsed = ProgramStateSchema.safeParse(raw);
    if (!parsed.success || parsed.data.programId !== programId) {
      return { allowed: false, status: 'UNKNOWN', version: undefined, reason: `malformed state item for scope ${String(scope)}` };
    }
    relevant.set(parsed.data.scope, parsed.data);
  }
  const global = relevant.get(GLOBAL_SCOPE);
  if (!global) return { allowed: false, status: 'UNKNOWN', version: undefined, reason: `program ${programId} has no state` };
  for (const scope of [GLOBAL_SCOPE, ...(scopes.length ? scopes : [...relevant.keys()].sort())]) {
    const state = relevant.get(scope);
    if (state?.status === 'PAUSED') {
      return { allowed: false, status: 'PAUSED', version: state.version, reason: state.reason, pausedScope: scope };
    }
  }
  return { allowed: true, status: 'ACTIVE', version: global.version, reason: global.reason };
}
