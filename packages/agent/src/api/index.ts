export { AgentServer } from './server.ts';
export type { AgentServerLogger, AgentServerOptions } from './server.ts';
