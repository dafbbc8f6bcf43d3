/**
 * The collector SDK: `import { KillSwitchGate } from 'killswitch/collector'`.
 */
export { KillSwitchGate, type KillSwitchGateOptions, type GateState, type GateListener } from './gate.ts';
export { KillSwitchProvider, COLLECTION_ALLOWED_FLAG } from './openfeature.ts';
export { evaluate, type Evaluation } from './evaluate.ts';
