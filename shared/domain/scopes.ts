import { GLOBAL_SCOPE } from '../schemas/common.ts';
import type { ProgramConfig } from '../schemas/config.ts';

/**
 * The scopes a program declares: the whole program, one per dataset (`category#<dataset>`), one per
 * configured region (`region#<name>`) and group (`group#<name>`). Only these can be paused: a scope
 * nobody declared is a scope no collector watches.
 */
export function declaredScopes(program: ProgramConfig): string[] {
  return [
    GLOBAL_SCOPE,
    ...program.datasetIds.map((d) => `category#${d}`),
    ...program.regions.map((r) => `region#${r}`),
    ...program.groups.map((g) => `group#${g}`),
  ];
}

export const isDeclaredScope = (program: ProgramConfig, scope: string): boolean => declaredScopes(program).includes(scope);

/** The datasets a pause of `scope` exposes to revocation and notices: one dataset's category, or all of them. */
export function datasetsOfScope(program: ProgramConfig, scope: string): string[] {
  const dataset = scope.startsWith('category#') ? scope.slice('category#'.length) : undefined;
  return dataset && program.datasetIds.includes(dataset) ? [dataset] : [...program.datasetIds];
}
