import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { systemTools } from '../support/system-tools.ts';

const BIN = join(import.meta.dirname, '../../bin/killswitch.js');

/** The CLI as a process of its own: exit code, stdout, stderr. */
async function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    });
    return { code: 0, out: stdout, err: stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, out: e.stdout ?? '', err: e.stderr ?? '' };
  }
}

/** What bash's completion offers after `words` (the last one being completed), with the script the CLI prints. */
async function complete(script: string, ...words: string[]): Promise<string[]> {
  const { stdout } = await promisify(execFile)('bash', [
    '-c',
    `source /dev/stdin <<'KS'\n${script}\nKS\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _killswitch; printf '%s\\n' "\${COMPREPLY[@]}"`,
  ]);
  return stdout.split('\n').filter(Boolean);
}

describe('CLI as a process: exit codes, help for everything, shell completion', () => {
  it('exits 0 for help and version, 2 for a mistake, with one line on stderr and nothing from the AWS SDK', async () => {
    const help = await run(['--help']);
    expect(help).toMatchObject({ code: 0, err: '' });
    expect(help.out).toContain('Examples:');
    expect(help.out).toContain('Exit codes: 0 ok, 1 failure, 2 bad input, 3 refused by policy.');
    expect((await run(['--version'])).out.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const bad = await run(['pause', '--bogus']);
    expect(bad.code).toBe(2);
    expect(bad.err.trim().split('\n')).toHaveLength(1);
    const machine = await run(['-o', 'json', 'pause', '--bogus']);
    expect(machine).toMatchObject({ code: 2, err: '' });
    expect(JSON.parse(machine.out)).toMatchObject({ ok: false, error: { kind: 'BAD_INPUT' } });
    const unreachable = await run(['--url', 'http://127.0.0.1:9/', '--region', 'eu-west-1', 'status'], {
      AWS_ACCESS_KEY_ID: 'x',
      AWS_SECRET_ACCESS_KEY: 'y',
    });
    expect(unreachable.code).toBe(1);
    expect(unreachable.err).not.toMatch(/NodeVersion|Node\.js version|SDK/);
  }, 60_000);

  it('describes every command and option, marks required options and gives examples', async () => {
    // The fish script lists every command and option of the tree with its description.
    const fish = (await run(['completion', 'fish'])).out;
    const entries = fish.split('\n').filter((l) => l.startsWith('complete -c killswitch ') && l !== 'complete -c killswitch -f');
    expect(entries.length).toBeGreaterThan(80); // the global options once, each command's own under it
    expect(entries.filter((l) => / -d ''$/.test(l))).toEqual([]);
    for (const command of [
      ['pause'],
      ['resume', 'request'],
      ['resume', 'approve'],
      ['grants', 'approve'],
      ['notify'],
      ['events', 'send'],
    ]) {
      const help = (await run([...command, '--help'])).out;
      expect(help, command.join(' ')).toContain('(required)');
    }
    for (const command of [['status'], ['pause'], ['incident', 'list'], ['local', 'up'], ['completion']]) {
      expect((await run([...command, '--help'])).out, command.join(' ')).toContain('Example');
    }
  }, 60_000);

  it('completes commands, subcommands, options and their choices in bash', async () => {
    const script = (await run(['completion', 'bash'])).out;
    expect(await complete(script, 'killswitch', '')).toEqual(expect.arrayContaining(['status', 'pause', 'resume', 'incident', 'local']));
    expect(await complete(script, 'killswitch', 'resume', '')).toEqual(['request', 'list', 'approve']);
    expect(await complete(script, 'killswitch', 'resume', 'list', '--st')).toEqual(expect.arrayContaining(['--status', '--state-dir']));
    expect(await complete(script, 'killswitch', 'resume', 'list', '--status', '')).toEqual(['PENDING', 'APPROVED', 'REJECTED']);
    expect(await complete(script, 'killswitch', 'incident', 'list', '--status', '')).toEqual(['OPEN', 'RESOLVED']); // its own choices
    expect(await complete(script, 'killswitch', '-o', '')).toEqual(['table', 'json', 'yaml', 'csv', 'md', 'html', 'pdf']);
    expect(await complete(script, 'killswitch', '--program', 'mci', 'pau')).toEqual(['pause']);
    expect(await complete(script, 'killswitch', 'incident', 'list', '--severity', 'C')).toEqual(['CRITICAL']);
    expect(await complete(script, 'killswitch', 'pause', '--program', '')).toEqual([]); // a value: nothing to guess
    expect((await run(['completion', 'tcsh'])).code).toBe(2);
  }, 60_000);

  it('completes the same in zsh and fish, run in those shells (Debian packages, installed by scripts/system-tools.mjs)', async () => {
    const shells = systemTools('zsh', 'fish');
    const dir = mkdtempSync(join(tmpdir(), 'ks-completion-'));
    writeFileSync(join(dir, 'note.txt'), 'a reason');
    writeFileSync(join(dir, 'ks.zsh'), (await run(['completion', 'zsh'])).out);
    writeFileSync(join(dir, 'ks.fish'), (await run(['completion', 'fish'])).out);
    const shell = async (exe: string, script: string) =>
      (await promisify(execFile)(exe, ['-c', script], { cwd: dir, env: { PATH: process.env.PATH, HOME: dir } })).stdout;

    // zsh: compinit registers the script through bashcompinit, and the function answers as in bash.
    const zsh = async (...words: string[]) =>
      (
        await shell(
          shells.zsh.executable,
          `autoload -U compinit && compinit -u -D; source ./ks.zsh; print -r -- "registered: \${_comps[killswitch]}"; emulate -L sh; setopt kshglob noshglob braceexpand; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _killswitch; printf '%s\\n' "\${COMPREPLY[@]}"`,
        )
      )
        .split('\n')
        .filter(Boolean);
    const [registered, ...offered] = await zsh('killswitch', 'resume', '');
    expect(registered).toBe('registered: _bash_complete -F _killswitch');
    expect(offered).toEqual(['request', 'list', 'approve']);
    expect((await zsh('killswitch', 'incident', 'list', '--status', '')).slice(1)).toEqual(['OPEN', 'RESOLVED']);
    expect((await zsh('killswitch', '-o', '')).slice(1)).toEqual(['table', 'json', 'yaml', 'csv', 'md', 'html', 'pdf']);

    // fish: what `complete -C` offers for a command line (file names only where a path is asked for).
    const fish = async (line: string) =>
      (await shell(shells.fish.executable, `source ./ks.fish; complete -C ${JSON.stringify(line)}`))
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('\t')[0]);
    expect(await fish('killswitch resume ')).toEqual(['approve', 'list', 'request']);
    expect(await fish('killswitch incident list --status ')).toEqual(['OPEN', 'RESOLVED']);
    expect(await fish('killswitch -o ')).toEqual(['csv', 'html', 'json', 'md', 'pdf', 'table', 'yaml']);
    expect(await fish('killswitch --local st')).toEqual(['status']);
    expect(await fish('killswitch incident list --st')).toEqual(['--state-dir', '--status']);
    expect(await fish('killswitch pause --reason-file ')).toContain('note.txt');
    expect(await fish('killswitch pause --program ')).toEqual([]);
    expect(await fish('killswitch --profile ')).toEqual([]); // a profile name, not a file
    const localStatus = await fish('killswitch local status --');
    expect(localStatus).toContain('--state-dir');
    expect(localStatus).not.toContain('--watch'); // the top-level status's, not local status's
    expect(await fish('killswitch ')).toEqual(expect.arrayContaining(['console', 'pause', 'status']));
  }, 120_000);
});
