/**
 * hostnic installed the way the root README tells an operator to: the Secret and ConfigMaps from the files
 * the README has them write, `kubectl apply -f deploy/hostnic.yaml`, VxNetPool v-pool and the IPAM ConfigMap,
 * all through the real kubectl; then the files the manifests mount into the agent and the controller.
 *
 * ```ts
 * const install = await installAsDocumented({ kubectl: { kubeconfig, cacheDir }, repo, workDir, settings,
 *   onStep: (s) => console.log(`[${s.index}/${s.total}] ${s.name}: ${s.command}`) });
 * const agent = containerMounts(install.daemonSet, 'hostnic-agent', install);
 * await writeMountedFiles(nodeRoot, agent.files); // <nodeRoot>/etc/hostnic/hostnic.json, <nodeRoot>/root/.qingcloud/config.yaml
 * ```
 */
export { documentedSteps, installAsDocumented } from './documented.ts';
export type { DocumentedInstall, DocumentedInstallOptions, DocumentedInstallSettings, InstallStep } from './documented.ts';
export { MountError, containerMounts, writeMountedFiles } from './mounts.ts';
export type { ContainerMounts, HostPathMount, MountedFile } from './mounts.ts';
export { configMapYaml, vxnetPoolYaml } from './manifests.ts';
