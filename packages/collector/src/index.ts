/**
 * The collector SDK: `import { KillSwitchGate } from '@killswitch/collector'`.
 */
export { KillSwitchGate, type KillSwitchGateOptions, type GateState, type GateListener } from './gate.ts';
export { evaluate, type Evaluation } from './evaluate.ts';
export { GateOptionsError, type OptionIssue } from './errors.ts';
export { ProgramStateSchema, ScopeSchema, GLOBAL_SCOPE, type ProgramState, type ProgramStatus } from './state.ts';
