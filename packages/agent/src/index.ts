/**
 * The endpoint agent SDK: `import { AgentGate } from '@killswitch/agent'`. Runs on Node.js 20 and
 * in browsers and Electron (fetch and WebCrypto); `@killswitch/agent/node` adds a file-backed `H`.
 */
export {
  AgentGate,
  memorySeqStore,
  type AgentGateOptions,
  type AgentState,
  type AgentListener,
  type AgentRejection,
  type SeqStore,
} from './gate.ts';
export {
  verifyStateDocument,
  decide,
  REJECT_REASONS,
  STATE_DOCUMENT_TYPE,
  type VerifyOptions,
  type VerifyResult,
  type RejectReason,
  type StateDocumentPayload,
  type ScopeState,
  type Jwks,
} from './document.ts';
export { deriveAgentSecret, signAck, ACK_SIGNATURE_HEADER, type Ack, type AckOptions } from './ack.ts';
