import { z } from './z.ts';
import { AnomalyDetailSchema } from './anomaly.ts';
import { KillSwitchEngagedSchema, KillSwitchReleasedSchema } from './domain-events.ts';
import { OperatorCommandSchema } from './operator.ts';
import { ProgramStateSchema } from './program-state.ts';

/**
 * The schemas published for other languages: detector teams validate the `detail` of their
 * `Anomaly Detected` events against `anomaly-detected.schema.json` before they publish.
 */
export const PUBLISHED_SCHEMAS: Record<string, { title: string; schema: z.ZodType; io: 'input' | 'output' }> = {
  'anomaly-detected': { title: 'detail of an "Anomaly Detected" event', schema: AnomalyDetailSchema, io: 'input' },
  'operator-command': { title: 'operator command (Function URL body)', schema: OperatorCommandSchema, io: 'input' },
  'program-state': { title: 'ProgramState item', schema: ProgramStateSchema, io: 'output' },
  'kill-switch-engaged': { title: 'detail of a "Kill Switch Engaged" event', schema: KillSwitchEngagedSchema, io: 'output' },
  'kill-switch-released': { title: 'detail of a "Kill Switch Released" event', schema: KillSwitchReleasedSchema, io: 'output' },
};

export function jsonSchemaOf(name: string): Record<string, unknown> {
  const entry = PUBLISHED_SCHEMAS[name];
  if (!entry) throw new Error(`no published schema "${name}"`);
  return {
    $id: `urn:killswitch:schema:${name}`,
    title: entry.title,
    ...z.toJSONSchema(entry.schema, { target: 'draft-2020-12', io: entry.io }),
  };
}
