export { AgentServer } from './server.ts';
export type { AgentServerLogger, AgentServerOptions } from './server.ts';
export { OperatorPath } from './operator.ts';
export type { NodeCheckAnswer } from './operator.ts';
