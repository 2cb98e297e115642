import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';

/** Temp dirs made by a test file, removed after each test whatever happened. */
export function useTempDirs(): () => Promise<string> {
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });
  return async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'hostnic-agent-config-'));
    dirs.push(dir);
    return dir;
  };
}

/** The two keys of ConfigMap hostnic-cfg-cm exactly as the seed README tells users to write them. */
export const README_HOSTNIC = `{
  "pool":{
    "maxNic":60
  },
  "server":{
    "networkPolicy": "calico"
  }
}
`;
export const README_HOSTNIC_CNI = `{
  "cniVersion": "0.3.0",
  "name": "hostnic",
  "type": "hostnic",
  "serviceCIDR" : "10.233.0.0/18",
  "hairpin": false,
  "natMark": "0x10000"
}
`;
/** What config/configmaps deploys as the `hostnic` key. */
export const DEPLOYED_HOSTNIC = '{"pool":{"poolHigh":5,"poolLow":3,"maxNic":60}}';
