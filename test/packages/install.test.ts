import { spawn } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProgramStateStore } from '#shared/adapters/dynamodb/program-state-store.ts';
import { startTestDynamo, type TestDynamo } from '../support/dynamo.ts';
import { NOT_FOR_USERS, packAndInstall, plainNode, ROOT, type Installed } from '../support/packages.ts';

const fileIn = (dir: string, name: string) => readdirSync(dir).find((f) => f.endsWith(`-${name}.json`))!;
const forbidden = (installed: Installed) => installed.productionPackages.filter((n) => NOT_FOR_USERS.some((p) => p.test(n)));

const CONSUMER = `
import { KillSwitchGate, GateOptionsError, evaluate } from '@killswitch/collector';
const [tableName, programId] = process.argv.slice(2);
let bad;
try { new KillSwitchGate({ tableName, programId: 'Not A Slug' }); } catch (error) { bad = { name: error.name, isClass: error instanceof GateOptionsError, message: error.message }; }
// A generous read timeout: the first read of a fresh process on a loaded machine includes loading the SDK.
const gate = new KillSwitchGate({ tableName, programId, scopes: ['category#keystrokes'], refreshIntervalMs: 1000, readTimeoutMs: 10000, maxStalenessMs: 30000 });
await gate.start();
const result = { allowed: gate.allowed(), status: gate.state().status, bad, empty: evaluate([], []) };
gate.stop();
console.log(JSON.stringify(result));
`;

const TYPED_CONSUMER = `
import { KillSwitchGate, type GateState, type ProgramState } from '@killswitch/collector';
import { KillSwitchProvider, COLLECTION_ALLOWED_FLAG } from '@killswitch/collector/openfeature';
const gate = new KillSwitchGate({ tableName: 'ProgramState', programId: 'mci', scopes: ['category#keystrokes'] });
const state: GateState = gate.state();
const status: 'ACTIVE' | 'PAUSED' | 'UNKNOWN' = state.status;
const allowed: boolean = gate.allowed();
// @ts-expect-error tableName is a string
new KillSwitchGate({ tableName: 1, programId: 'mci' });
const item: Pick<ProgramState, 'status'> = { status: 'PAUSED' };
const provider = new KillSwitchProvider({ tableName: 'ProgramState', programId: 'mci' });
export { status, allowed, item, provider, COLLECTION_ALLOWED_FLAG };
`;

const AGENT_CONSUMER = `
import { readFileSync } from 'node:fs';
import { AgentGate, verifyStateDocument } from '@killswitch/agent';
import { fileSeqStore } from '@killswitch/agent/node';
const [validPath, rollbackPath, seqPath] = process.argv.slice(2);
const valid = JSON.parse(readFileSync(validPath, 'utf8'));
const rollback = JSON.parse(readFileSync(rollbackPath, 'utf8'));
const verify = (v) => verifyStateDocument(v.token, v.jwks, { programId: v.programId, serverTime: v.serverTime, highestSeq: v.highestSeq, maxClockSkewSeconds: v.maxClockSkewSeconds, scopes: v.scopes });
// The gate over a feed that serves the valid vector with its Date: what an agent does, without a network.
const feed = async (url) => {
  const body = String(url).endsWith('keys.json') ? JSON.stringify(valid.jwks) : valid.token;
  return new Response(body, { status: 200, headers: { date: new Date(valid.serverTime * 1000).toUTCString() } });
};
const gate = new AgentGate({ feedUrl: 'https://feed.example/', programId: valid.programId, scopes: valid.scopes, seqStore: fileSeqStore(seqPath), fetch: feed, refreshIntervalMs: 3600000 });
await gate.start();
const result = { valid: await verify(valid), rollback: await verify(rollback), gate: { allowed: gate.allowed(), seq: gate.state().seq }, saved: readFileSync(seqPath, 'utf8').trim() };
await gate.stop();
console.log(JSON.stringify(result));
`;

describe('Installable packages, packed and installed into an empty project', () => {
  describe('@killswitch/agent', () => {
    let agent: Installed;
    beforeAll(() => {
      agent = packAndInstall('agent');
    }, 180_000);
    afterAll(() => agent?.remove());

    it('brings jose only, and verifies the specification’s vectors and runs a gate from plain Node.js ESM', () => {
      expect(agent.productionPackages.filter((n) => n !== '@killswitch/agent')).toEqual(['jose']);
      writeFileSync(join(agent.dir, 'consumer.mjs'), AGENT_CONSUMER);
      const vectors = join(ROOT, 'docs/state-feed/vectors');
      const out = plainNode(agent.dir, [
        'consumer.mjs',
        join(vectors, '01-valid-active.json'),
        join(vectors, fileIn(vectors, 'rollback')),
        join(agent.dir, 'mci.seq'),
      ]);
      expect(out.stderr).toBe('');
      const result = JSON.parse(out.stdout);
      expect(result.valid).toMatchObject({ valid: true, allowed: true, seq: 7 });
      expect(result.rollback).toMatchObject({ valid: false, error: 'ROLLBACK' });
      expect(result.gate).toEqual({ allowed: true, seq: 7 });
      expect(result.saved).toBe('7');
    });
  });

  describe('@killswitch/collector', () => {
    let db: TestDynamo;
    let plain: Installed;
    let withOpenFeature: Installed;
    beforeAll(async () => {
      db = await startTestDynamo();
      plain = packAndInstall('collector');
      withOpenFeature = packAndInstall('collector', {
        '@openfeature/server-sdk': '1.23.0',
        typescript: '6.0.3',
        '@types/node': '20.19.43',
      });
    }, 180_000);
    afterAll(async () => {
      plain?.remove();
      withOpenFeature?.remove();
      await db?.dynamo.stop();
    });

    it('brings the DynamoDB client and zod, and nothing of the CDK, the emulators, tsx or test tools', () => {
      expect(forbidden(plain)).toEqual([]);
      expect(plain.productionPackages).toEqual(expect.arrayContaining(['@aws-sdk/client-dynamodb', 'zod']));
      // OpenFeature is an optional peer: only who asks for it gets it.
      expect(plain.productionPackages.filter((n) => n.startsWith('@openfeature/'))).toEqual([]);
    });

    it('works from plain Node.js ESM against DynamoDB: the gate opens on an ACTIVE program, closes on a pause, and names a bad option', async () => {
      const store = new ProgramStateStore(db.doc, db.tables.programState);
      await store.register('pkg', new Date());
      writeFileSync(join(plain.dir, 'consumer.mjs'), CONSUMER);
      const env = {
        AWS_ENDPOINT_URL_DYNAMODB: db.dynamo.endpoint,
        AWS_REGION: 'eu-west-1',
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
      };
      const active = plainNode(plain.dir, ['consumer.mjs', db.tables.programState, 'pkg'], env);
      expect(active.stderr).toBe('');
      expect(JSON.parse(active.stdout)).toMatchObject({
        allowed: true,
        status: 'ACTIVE',
        bad: { name: 'GateOptionsError', isClass: true, message: expect.stringContaining('programId') },
        empty: { allowed: false },
      });

      await store.pause({
        programId: 'pkg',
        scope: '*',
        incidentId: 'inc-20261202-000000000001',
        attemptId: 'pkg',
        summary: 'leak',
        verified: true,
        trigger: 'OPERATOR',
        at: new Date(),
      });
      const paused = plainNode(plain.dir, ['consumer.mjs', db.tables.programState, 'pkg'], env);
      expect(JSON.parse(paused.stdout)).toMatchObject({ allowed: false, status: 'PAUSED' });
    });

    it('type-checks a TypeScript consumer against its declarations, OpenFeature provider included', () => {
      expect(
        forbidden({
          ...withOpenFeature,
          productionPackages: withOpenFeature.productionPackages.filter((n) => n !== 'typescript' && n !== '@types/node'),
        }),
      ).toEqual([]);
      writeFileSync(join(withOpenFeature.dir, 'consumer.ts'), TYPED_CONSUMER);
      writeFileSync(
        join(withOpenFeature.dir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            module: 'NodeNext',
            moduleResolution: 'NodeNext',
            target: 'ES2022',
            strict: true,
            noEmit: true,
            skipLibCheck: false,
            types: ['node'],
          },
          files: ['consumer.ts'],
        }),
      );
      const tsc = plainNode(withOpenFeature.dir, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json']);
      expect(tsc.stdout + tsc.stderr).toBe('');
      expect(tsc.status).toBe(0);
    });
  });

  describe('@killswitch/cli', () => {
    let cli: Installed;
    beforeAll(() => {
      cli = packAndInstall('cli');
    }, 180_000);
    afterAll(() => cli?.remove());
    const run = (...args: string[]) =>
      plainNode(cli.dir, ['node_modules/@killswitch/cli/bin/killswitch.js', ...args], {
        AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'local',
        AWS_EC2_METADATA_DISABLED: 'true',
      });

    it('brings no CDK, emulator, tsx or test package', () => {
      expect(forbidden(cli)).toEqual([]);
      expect(cli.productionPackages).toEqual(expect.arrayContaining(['commander', '@aws-sdk/client-lambda']));
    });

    it('runs from plain Node.js: help, a signed call to an operator URL, and local commands that say they need a checkout', () => {
      const help = run('--help');
      expect(help.status).toBe(0);
      expect(help.stdout).toMatch(/pause/);
      expect(run('--version').stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
      // Signs the request and its caller proof, then finds nobody listening on loopback.
      const status = run('status', '--url', 'http://127.0.0.1:9/', '--region', 'eu-west-1');
      expect(status.status).not.toBe(0);
      expect(status.stderr).toMatch(/cannot reach http:\/\/127\.0\.0\.1:9\//);
      // A command that builds an AWS SDK client: the SDK's Node.js-version notice is not printed.
      const enrol = plainNode(
        cli.dir,
        [
          'node_modules/@killswitch/cli/bin/killswitch.js',
          'agents',
          'enrol',
          'laptop-1',
          '--secret-id',
          'arn:aws:secretsmanager:eu-west-1:111111111111:secret:m',
          '--region',
          'eu-west-1',
        ],
        { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'local', AWS_ENDPOINT_URL_SECRETS_MANAGER: 'http://127.0.0.1:9' },
      );
      expect(enrol.status).toBe(1);
      expect(enrol.stderr.trim()).toMatch(
        /^error: cannot read the enrolment master arn:aws:secretsmanager:eu-west-1:111111111111:secret:m: connect ECONNREFUSED 127\.0\.0\.1:9$/,
      );
      const up = run('local', 'up');
      expect(up.status).not.toBe(0);
      expect(up.stderr).toMatch(/local up needs the local runtime, which comes with a checkout of killswitch/);
      const local = run(
        'status',
        '--local',
        '--as',
        'arn:aws:sts::111111111111:assumed-role/KillswitchOperators/alice',
        '--state-dir',
        join(ROOT, 'no-such-dir'),
      );
      expect(local.status).not.toBe(0);
      expect(local.stderr).toMatch(/no local stack is running|needs the local runtime/);
    });

    it('serves the console with the page built into the package (no esbuild, no CDN)', async () => {
      const child = spawn(
        process.execPath,
        [
          'node_modules/@killswitch/cli/bin/killswitch.js',
          '-o',
          'json',
          'console',
          '--url',
          'http://127.0.0.1:9/',
          '--region',
          'eu-west-1',
        ],
        {
          cwd: cli.dir,
          env: {
            PATH: process.env.PATH ?? '',
            HOME: process.env.HOME ?? '',
            AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
            AWS_SECRET_ACCESS_KEY: 'local',
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      try {
        let out = '';
        const line = await new Promise<string>((resolve, reject) => {
          child.stdout.on('data', (c: Buffer) => {
            out += c.toString();
            if (out.includes('\n')) resolve(out.split('\n')[0]!);
          });
          child.stderr.on('data', (c: Buffer) => (out += c.toString()));
          child.once('exit', (code) => reject(new Error(`console exited ${code}: ${out}`)));
        });
        const { url, origin } = (JSON.parse(line) as { result: { url: string; origin: string } }).result;
        const page = { origin, 'x-killswitch-console': '1', 'content-type': 'application/json' };
        const signIn = await fetch(`${origin}/api/session`, {
          method: 'POST',
          headers: page,
          body: JSON.stringify({ token: new URL(url).hash.replace('#token=', '') }),
        });
        expect(signIn.status).toBe(200);
        const script = await fetch(`${origin}/assets/app.js`);
        expect(script.status).toBe(200);
        expect(await script.text()).toContain('/api/operator');
        // The relayed call reaches the URL given (nobody listens there): the console answers with the failure.
        const { secret } = (await signIn.json()) as { secret: string };
        const answer = await fetch(`${origin}/api/operator`, {
          method: 'POST',
          headers: { ...page, authorization: `Bearer ${secret}` },
          body: JSON.stringify({ action: 'status' }),
        });
        expect(await answer.json()).toMatchObject({
          ok: false,
          error: { message: expect.stringContaining('cannot reach http://127.0.0.1:9/') },
        });
      } finally {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGINT');
        await exited;
      }
    });
  });
});
