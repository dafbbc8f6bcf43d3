import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { positive } from '../options.ts';

/** `console`: the operator's web page, served on 127.0.0.1 by the CLI itself, until Ctrl-C. */
export function register(program: Command, cli: CliContext): void {
  program
    .command('console')
    .description(
      'open the operator console: a page on 127.0.0.1 that shows every program and incident and sends your commands with your own credentials',
    )
    .option('--port <n>', 'the port to listen on (default: one the system picks)', (v: string) => {
      const n = positive(v);
      if (n > 65535) throw new Error('must be at most 65535');
      return n;
    })
    .option('--refresh <seconds>', 'how often the page refreshes the board', positive, 2)
    .addHelpText(
      'after',
      '\nThe link it prints opens one browser session, once; nobody else can use it afterwards.\n\nExamples:\n  killswitch console\n  killswitch --local --as arn:aws:sts::111111111111:assumed-role/KillswitchOperators/alice console --port 8443',
    )
    .action(async (o: { port?: number; refresh: number }) => {
      const g = cli.globals();
      const target = await cli.target();
      const [{ startConsole }, { consoleAssets }] = await Promise.all([import('../console/server.ts'), import('../console-assets.ts')]);
      const identity = g.local ? g.as! : `your AWS credentials${g.profile ? ` (profile ${g.profile})` : ''}`;
      const running = await startConsole({ target, identity, assets: await consoleAssets(), port: o.port, refreshSeconds: o.refresh });
      cli.print({ ok: true, result: { action: 'console', url: running.url, origin: running.origin, target: target.description } }, () =>
        [
          `killswitch console for ${target.description}`,
          `open ${running.url}`,
          'the link works once, in one browser; Ctrl-C stops the console',
        ].join('\n'),
      );
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await running.close();
    });
}
