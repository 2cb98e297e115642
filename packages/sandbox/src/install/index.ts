/**
 * hostnic installed the way the root README tells an operator to: the kubectl commands of its install block
 * (after `<!-- install-steps -->`) run as written, through the real kubectl, with the sandbox's values in the
 * files the block has the operator write (the Secret and ConfigMaps, VxNetPool v-pool, the IPAM ConfigMap;
 * `kubectl apply -f deploy/hostnic.yaml` between); then the files the manifests mount into the agent and the
 * controller.
 *
 * ```ts
 * const install = await installAsDocumented({ kubectl: { kubeconfig, cacheDir }, repo, workDir, settings,
 *   onStep: (s) => console.log(`[${s.index}/${s.total}] ${s.name}: ${s.command}`) });
 * const agent = containerMounts(install.daemonSet, 'hostnic-agent', install);
 * await writeMountedFiles(nodeRoot, agent.files); // <nodeRoot>/etc/hostnic/hostnic.json, <nodeRoot>/root/.qingcloud/config.yaml
 * ```
 */
export { checkStepFiles, installAsDocumented, operatorFiles } from './documented.ts';
export { INSTALL_STEPS_MARKER, readmeInstallSteps, ReadmeStepsError } from './readme-steps.ts';
export type { ReadmeFile, ReadmeStep } from './readme-steps.ts';
export type { DocumentedInstall, DocumentedInstallOptions, DocumentedInstallSettings, InstallStep } from './documented.ts';
export { MountError, containerMounts, writeMountedFiles } from './mounts.ts';
export type { ContainerMounts, HostPathMount, MountedFile } from './mounts.ts';
export { configMapYaml, vxnetPoolYaml } from './manifests.ts';
