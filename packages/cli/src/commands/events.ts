import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { CliContext } from '../context.ts';
import { localServiceEventTarget } from '../checkout.ts';
import { localClientConfig, readLocalState } from '../local-state.ts';
import { CliError, Exit } from '../exit-codes.ts';

const ANOMALY_DETAIL_TYPE = 'Anomaly Detected';

/**
 * An anomaly is checked as the trigger will read it, before it is put on the bus: one it would
 * refuse (its minimal fields — anomaly id, program, severity — broken) is not sent, naming each
 * field; fields off the published schema (schemas/anomaly-detected.schema.json) that the trigger
 * cleans or replaces are warnings, never a reason not to send — free text must not stand between a
 * CRITICAL anomaly and the flag. Returns the warnings.
 */
async function checkAnomaly(file: string, detail: string): Promise<string[]> {
  const [{ AnomalyDetailSchema, normaliseAnomaly }, { ValidationError, toFieldIssues }] = await Promise.all([
    import('../../../../shared/schemas/anomaly.ts'),
    import('../../../../shared/domain/errors.ts'),
  ]);
  let parsed: unknown;
  try {
    parsed = JSON.parse(detail);
  } catch {
    throw new CliError(`${file}: detail is not JSON`, Exit.BAD_INPUT);
  }
  try {
    normaliseAnomaly(parsed, new Date());
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    throw new CliError(`${file}: an Anomaly Detected event the trigger would refuse; nothing was sent`, Exit.BAD_INPUT, error.issues);
  }
  const strict = AnomalyDetailSchema.safeParse(parsed);
  return strict.success
    ? []
    : toFieldIssues(strict.error).map(
        (i) => `detail.${i.path}: ${i.message} (off the published schema; the trigger cleans or replaces it)`,
      );
}

/** `events send`: an event on the bus, as a detector (PutEvents) or, on the local stack, an AWS service would put it. */
export function register(program: Command, cli: CliContext): void {
  program
    .command('events')
    .description('put events on the bus')
    .command('send')
    .description('put an event on the bus exactly as a detector or AWS would (a PutEvents entry or an EventBridge event)')
    .requiredOption('--file <path>', 'a JSON file: a PutEvents entry, or a whole EventBridge event (required)')
    .addHelpText(
      'after',
      '\nExamples:\n  killswitch events send --file anomaly.json --bus killswitch-bus\n  killswitch --local events send --file local/samples/guardduty-finding.json   # as GuardDuty would, on the local stack only',
    )
    .action(async (o: { file: string }) => {
      const g = cli.globals();
      let raw: Record<string, unknown>;
      try {
        raw = JSON.parse(readFileSync(o.file, 'utf8')) as Record<string, unknown>;
      } catch (error) {
        throw new CliError(`cannot read ${o.file}: ${(error as Error).message}`, Exit.BAD_INPUT);
      }
      const local = g.local ? await readLocalState(g.stateDir) : undefined;
      const rawSource = String(raw.Source ?? raw.source ?? '');
      if (rawSource.startsWith('aws.')) {
        // AWS services put their own events on the default bus; PutEvents refuses "aws." sources.
        if (!local)
          throw new CliError(
            `${o.file}: "${rawSource}" events are put on the default bus by AWS itself; only the local stack (--local) can play that part`,
            Exit.BAD_INPUT,
          );
        if (raw['detail-type'] === undefined || raw.detail === undefined)
          throw new CliError(
            `${o.file}: an AWS service event needs the whole EventBridge event (source, detail-type, detail, …)`,
            Exit.BAD_INPUT,
          );
        const response = await fetch(local.endpoints.eventbridge, {
          method: 'POST',
          headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': await localServiceEventTarget() },
          body: JSON.stringify(raw),
        });
        const result = (await response.json()) as { EventId?: string; message?: string };
        if (!response.ok) throw new CliError(`${o.file}: ${result.message ?? response.status}`, Exit.BAD_INPUT);
        cli.print(result, () => `event ${result.EventId} put on default (as ${rawSource})`);
        return;
      }
      const entry: PutEventsRequestEntry = {
        Source: (raw.Source ?? raw.source) as string,
        DetailType: (raw.DetailType ?? raw['detail-type']) as string,
        Detail: typeof raw.Detail === 'string' ? raw.Detail : JSON.stringify(raw.Detail ?? raw.detail),
        EventBusName: (raw.EventBusName as string | undefined) ?? g.bus ?? local?.busName,
        Resources: (raw.Resources ?? raw.resources) as string[] | undefined,
      };
      if (!entry.Source || !entry.DetailType || !entry.Detail)
        throw new CliError(`${o.file}: needs source, detail-type and detail`, Exit.BAD_INPUT);
      if (entry.DetailType === ANOMALY_DETAIL_TYPE)
        for (const warning of await checkAnomaly(o.file, entry.Detail)) cli.progress(`warning: ${warning}`);
      const { EventBridgeClient, PutEventsCommand } = await import('@aws-sdk/client-eventbridge');
      const client = new EventBridgeClient(
        local ? localClientConfig(local, local.endpoints.eventbridge) : { region: g.region, ...(g.profile ? { profile: g.profile } : {}) },
      );
      const out = await client.send(new PutEventsCommand({ Entries: [entry] }));
      const result = out.Entries?.[0];
      if (out.FailedEntryCount) {
        cli.fail({
          kind: 'BAD_INPUT',
          message: `${o.file}: EventBridge refused it: ${result?.ErrorCode} ${result?.ErrorMessage ?? ''}`.trim(),
        });
        cli.exitCode = Exit.BAD_INPUT;
        return;
      }
      cli.print(result, () => `event ${result?.EventId} put on ${entry.EventBusName ?? 'default'}`);
    });
}
