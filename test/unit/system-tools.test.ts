import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/packages.ts';

/** scripts/system-tools.mjs never lets a test skip: a tool it cannot find or install is an error that says how to get it. */
describe('scripts/system-tools.mjs', () => {
  const script = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, [join(ROOT, 'scripts/system-tools.mjs'), ...args], { encoding: 'utf8', env: { ...process.env, ...env } });

  it('fails, naming how to install it, when the executable it is pointed at does not run', () => {
    const r = script(['zsh'], { KILLSWITCH_ZSH: '/nonexistent/zsh' });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/KILLSWITCH_ZSH=\/nonexistent\/zsh does not run .*apt-get install zsh/);
  });

  it('refuses a tool it does not know, and an empty request', () => {
    expect(script(['firefox']).stderr).toContain('name the tools to find: chromium, zsh, fish (not firefox)');
    expect(script([]).status).toBe(1);
  });
});
