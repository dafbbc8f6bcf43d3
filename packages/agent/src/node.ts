/** Node.js helpers of the agent SDK: `import { fileSeqStore } from '@killswitch/agent/node'`. */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { SeqStore } from './gate.ts';

/**
 * `H` in a file, written atomically (a temporary file renamed over it), so a crash never leaves a
 * lower or a torn value. A file that does not exist yet means 0; one that cannot be read fails
 * `start()` (an agent that cannot tell what it accepted must not guess).
 */
export function fileSeqStore(path: string): SeqStore {
  return {
    async load() {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
        throw error;
      }
      const seq = Number(text.trim());
      if (!Number.isSafeInteger(seq) || seq < 0) throw new Error(`${path}: not a seq (${JSON.stringify(text.slice(0, 40))})`);
      return seq;
    },
    async save(seq) {
      await mkdir(dirname(path), { recursive: true });
      const tmp = `${path}.${process.pid}.tmp`;
      await writeFile(tmp, `${seq}\n`, { mode: 0o600 });
      await rename(tmp, path);
    },
  };
}
