/** The files an agent reads on a sandbox node, and their texts (which the documented install puts in the ConfigMaps). */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SandboxNetwork } from '@hostnic/sandbox/cluster';

type Sections = Readonly<Record<string, Readonly<Record<string, unknown>>>>;

/** The QingCloud SDK config.yaml pointing at the sandbox's fake QingCloud (Secret qcsecret's `config.yaml`). */
export function qingcloudConfigYaml(qc: SandboxNetwork['qingcloud']): string {
  return [
    `qy_access_key_id: '${qc.accessKey.accessKeyId}'`,
    `qy_secret_access_key: '${qc.accessKey.secretAccessKey}'`,
    `zone: '${qc.zone}'`,
    `host: '${qc.endpoint.host}'`,
    `port: ${qc.endpoint.port}`,
    'protocol: http',
    '',
  ].join('\n');
}

/** The CNI network config of the sandbox (ConfigMap hostnic-cfg-cm's `hostnic-cni`), before any node's paths. */
export const SANDBOX_CNI_CONFIG: Readonly<Record<string, unknown>> = { cniVersion: '1.0.0', name: 'hostnic', type: 'hostnic', serviceCIDR: '10.233.0.0/18' };

/** hostnic.json with the sandbox's short timers, `extra`'s sections merged in (e.g. `{ agent: { warmNicsPerVxnet: 1 } }`). */
export function sandboxHostnicJson(extra: Sections = {}): Record<string, unknown> {
  return {
    ...extra,
    pool: { maxNic: 60, sync: 2, freePeriod: 60, ...extra['pool'] },
    agent: { spoolReplayIntervalSec: 1, jobPollIntervalSec: 1, attachTimeoutSec: 30, linkTimeoutSec: 15, orphanPodGraceSec: 2, ...extra['agent'] },
  };
}

/** The agent's input files for one node: QingCloud config.yaml, kubeconfig and hostnic.json with short timers. */
export async function writeAgentConfigs(
  etc: string,
  qc: SandboxNetwork['qingcloud'],
  kubeconfigText: string,
  /** Merged into hostnic.json's sections, e.g. `{ agent: { warmNicsPerVxnet: 1 } }`. */
  extra: Sections = {},
): Promise<{ qcConfig: string; kubeconfig: string; hostnicJson: string }> {
  await mkdir(etc, { recursive: true });
  const qcConfig = join(etc, 'config.yaml');
  await writeFile(qcConfig, qingcloudConfigYaml(qc));
  const kubeconfig = join(etc, 'kubeconfig');
  await writeFile(kubeconfig, kubeconfigText);
  const hostnicJson = join(etc, 'hostnic.json');
  await writeFile(hostnicJson, JSON.stringify(sandboxHostnicJson(extra)));
  return { qcConfig, kubeconfig, hostnicJson };
}
