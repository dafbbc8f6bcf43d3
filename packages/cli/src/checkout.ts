import { CliError, Exit } from './exit-codes.ts';

/**
 * The local runtime (the embedded stack, its STS and its bus) lives in a checkout of killswitch,
 * not in the installed CLI: it needs the emulators and tsx. This loads a piece of it on demand and
 * says how to get it when the CLI runs from an installed package.
 */
export async function fromCheckout<T>(what: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'ERR_UNKNOWN_FILE_EXTENSION' || code === 'ERR_PACKAGE_IMPORT_NOT_DEFINED') {
      throw new CliError(
        `${what} needs the local runtime, which comes with a checkout of killswitch, not with the installed CLI: ` +
          'git clone the repository, run `npm ci`, then `npx killswitch local up` there',
        Exit.BAD_INPUT,
      );
    }
    throw error;
  }
}

// Pieces of the local runtime are imported from modules directly under src/: the bundle keeps these
// paths as written and sits at the same depth (dist/), so they resolve alike from source and bundle.

/** The local bus's target for events an AWS service puts (only the local stack can play AWS). */
export async function localServiceEventTarget(): Promise<string> {
  return (await fromCheckout('events send --local', () => import('../../../local/event-bus.ts'))).LOCAL_SERVICE_EVENT_TARGET;
}
