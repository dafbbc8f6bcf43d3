import type { ProgramState } from '../schemas/program-state.ts';

/**
 * A program's state sequence number, `seq` in the signed state document and in acknowledgements:
 * the sum of its scopes' versions. Every state change increments exactly one version, so `seq`
 * strictly increases with every change (docs/state-feed.md §4). Kept apart from the feed's
 * publisher so that readers (status views, acks) do not load the signing code.
 */
export const seqOf = (states: readonly Pick<ProgramState, 'version'>[]): number => states.reduce((n, s) => n + s.version, 0);
