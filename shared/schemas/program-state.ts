// The flag's item is defined once, by the collector SDK that reads it (packages/collector).
export {
  ProgramStateSchema,
  ProgramStatusSchema,
  StateTriggerSchema,
  type ProgramState,
  type ProgramStatus,
  type StateTrigger,
} from '#collector/state.ts';
