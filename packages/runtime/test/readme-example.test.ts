import { createServer } from 'node:http';
import { expect, it } from 'vitest';
import { Metrics, createLogger, every, listen, requestFamilies } from '../src/index.ts';

// The README's example, kept runnable: a daemon's logger, registry, periodic task and metrics port.
it('README example: log, count, repeat, serve', async () => {
  const lines: string[] = [];
  const log = createLogger({ level: 'info', fields: { component: 'demo' }, destination: { write: (l: string) => void lines.push(l) } });
  const metrics = new Metrics({ component: 'demo', version: '0.1.0', labels: { node_name: 'node-1' } });
  const iaas = requestFamilies(metrics, 'hostnic_iaas', 'QingCloud API');

  let ticks = 0;
  const tick = every(10, async () => {
    ticks += 1;
    iaas.observe('DescribeNics', 'ok', 0.03);
  }, (e) => log.error('tick failed', { error: e }));

  const server = createServer((_req, res) => {
    void metrics.render().then((text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(text));
  });
  const http = await listen(server, { port: 0, host: '127.0.0.1' });
  log.info('listening', { port: http.port });

  await expect.poll(() => ticks, { timeout: 5000 }).toBeGreaterThanOrEqual(2);
  await tick.stop();
  const text = await (await fetch(`http://127.0.0.1:${http.port}/metrics`)).text();
  await http.close();

  expect(text).toContain(`hostnic_iaas_requests_total{action="DescribeNics",result="ok",node_name="node-1"} ${ticks}`);
  expect(text).toContain('hostnic_build_info{component="demo",version="0.1.0"');
  expect(text).toContain('process_resident_memory_bytes');
  expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'info', component: 'demo', msg: 'listening', port: http.port });
});
