import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { run, startHostnicStack } from '../src/stack/index.ts';
import type { PodRef } from '../src/stack/index.ts';
const P = Number(process.env['P'] ?? 10);
const stack = await startHostnicStack({
  prefix: `hx${randomBytes(2).toString('hex')}`, nodes: 1, agentsOn: ['node-1'], apps: 'bundle',
  vxnets: [{ id: 'vxnet-mgmt001', cidr: '10.100.0.0/24', management: true }, { id: 'vxnet-pods001', cidr: '172.16.3.0/24' }],
  ipam: { kind: 'controller', vxnets: ['vxnet-pods001'], blockSize: 26, ipamConfig: { 'subnet-auto-assign': 'off', ipam: JSON.stringify({ Default: ['vxnet-pods001'] }) } },
});
try {
  const agent = stack.agent('node-1');
  const launcher = ['ip', 'netns', 'exec', agent.node.netnsName];
  const { ref: w } = await stack.createPod('node-1', 'bench', 'warm');
  for (let i = 0; i < 3; i++) { const r = { ...w, containerId: randomBytes(16).toString('hex') }; await agent.plugin('ADD', r); await agent.plugin('DEL', r); }
  const pods: PodRef[] = [];
  for (let i = 0; i < P; i++) pods.push((await stack.createPod('node-1', 'bench', `p${i}`)).ref);
  for (let round = 0; round < Number(process.env['R'] ?? 2); round++) {
    const mark = agent.child.output().length;
    let t = performance.now();
    await Promise.all(Array.from({ length: P }, () => run([...launcher, process.execPath, '-e', '0'], { PATH: process.env['PATH'] ?? '' }, '', stack.dir)));
    const nodeRate = (P * 1000) / (performance.now() - t);
    t = performance.now();
    const res = await Promise.all(pods.map(async (p) => { const s = performance.now(); const r = await agent.plugin('ADD', p); return { code: r.code, ms: Math.round(performance.now() - s) }; }));
    const addRate = (P * 1000) / (performance.now() - t);
    t = performance.now();
    await Promise.all(pods.map((p) => agent.plugin('DEL', p)));
    const delRate = (P * 1000) / (performance.now() - t);
    console.log(`round ${round}: node -e 0 x${P} ${nodeRate.toFixed(1)}/s; ADD ${addRate.toFixed(1)}/s; DEL ${delRate.toFixed(1)}/s; plugin ms ${res.map((r) => `${r.ms}${r.code === 0 ? '' : '!'}`).join(' ')}`);
    for (const line of agent.child.output().slice(mark).split('\n')) {
      if (line.includes('"msg":"pod added"') || line.includes('"msg":"pod deleted"')) {
        const j = JSON.parse(line) as { msg: string; stepsMs: Record<string, number>; time?: number };
        console.log(`  ${j.msg} ${JSON.stringify(j.stepsMs)}`);
      }
    }
  }
} finally {
  await stack.close();
}
