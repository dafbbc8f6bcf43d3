import { chainIdOf, type ChainName, type LedgerChains } from '../../../record/ports.ts';
import { HashChains } from './hash-chains.ts';
import type { LedgerTable } from './ledger-table.ts';

/** How a ledger store seals what it writes. */
export interface ChainOptions {
  /** The chains to seal into (default: the table's own, with no exported heads). */
  chains?: LedgerChains;
  /** Told when a seal fails after the record was written: the record stays, unsealed, for the next write or the deadline watch to seal. */
  onSealError?: (error: unknown, chainId: string) => void;
}

/** A store's chain options with their defaults. */
export function chainOptions(table: LedgerTable, options: ChainOptions): Required<ChainOptions> {
  return { chains: options.chains ?? new HashChains(table), onSealError: options.onSealError ?? (() => {}) };
}

/** Seal a chain after a write; a failure goes to `onSealError`, never to the writer's caller (the record itself is written). */
export async function sealAfter(options: Required<ChainOptions>, name: ChainName): Promise<void> {
  try {
    await options.chains.seal(name);
  } catch (error) {
    options.onSealError(error, chainIdOf(name));
  }
}
