/**
 * hostnic as a whole on one machine (agents, controller, plugin on the sandbox network and the fake
 * kube-apiserver), for end-to-end tests, benchmarks and the demo.
 */
export { PLUGIN, REPO, WiredPods, agentNodeOptions, agentRunArgv, controllerNodeOptions, deployManifests, nodeLeftovers, runPlugin, startHostnicStack } from './stack.ts';
export type { ControllerProcess, HostnicStack, NodeAgent, PluginRunOptions, PodRef, StackIpam, StackOptions, WiredPod } from './stack.ts';
export { AGENT_CLI, BundleNotBuiltError, CONTROLLER_CLI, appCommand, bundlePath, checkBundle, nodeOptionsFor } from './app-command.ts';
export type { App, AppMode } from './app-command.ts';
export { portGet, run, socketGet, startChild, until } from './processes.ts';
export type { RestartOptions, Restartable } from './restartable.ts';
export type { Child, RunResult } from './processes.ts';
export { RELAY_SCRIPT, unixBridge } from './relay.ts';
export { writeAgentConfigs } from './agent-files.ts';
