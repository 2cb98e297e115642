import { describe, expect, it } from 'vitest';
import { Metrics, requestFamilies, timed } from '../src/index.ts';

describe('Metrics', () => {
  it('renders process metrics and hostnic_build_info with the registry labels', async () => {
    const m = new Metrics({ component: 'agent', version: '1.2.3', labels: { node_name: 'node-1' } });
    const text = await m.render();
    expect(text).toContain('# TYPE process_resident_memory_bytes gauge');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
    expect(text).toMatch(/hostnic_build_info\{component="agent",version="1.2.3",node_version="v\d+\.\d+\.\d+",node_name="node-1"\} 1/);
    expect(m.contentType).toContain('text/plain');
  });

  it('two registries do not share families (one per daemon, one per test)', async () => {
    const a = new Metrics({ component: 'a', version: '0', processMetrics: false });
    const b = new Metrics({ component: 'b', version: '0', processMetrics: false });
    a.counter('hostnic_things_total', 'Things.').inc();
    expect(await a.render()).toContain('hostnic_things_total 1');
    expect(await b.render()).not.toContain('hostnic_things_total');
    expect(await b.render()).not.toContain('process_cpu');
  });

  it('gauges may be computed at scrape time', async () => {
    const m = new Metrics({ component: 'c', version: '0', processMetrics: false });
    let queue = 3;
    m.gauge('hostnic_queue_depth', 'Depth.', [], function collect() {
      this.set(queue);
    });
    expect(await m.render()).toContain('hostnic_queue_depth 3');
    queue = 5;
    expect(await m.render()).toContain('hostnic_queue_depth 5');
  });
});

describe('requestFamilies', () => {
  it('counts requests and observes latency by action and result', async () => {
    const m = new Metrics({ component: 'c', version: '0', processMetrics: false });
    const iaas = requestFamilies(m, 'hostnic_iaas', 'QingCloud API');
    iaas.observe('DescribeNics', 'ok', 0.02);
    iaas.observe('DescribeNics', 'ok', 0.2);
    iaas.observe('AttachNics', 'api-error', 1.5);
    const text = await m.render();
    expect(text).toContain('# TYPE hostnic_iaas_requests_total counter');
    expect(text).toContain('hostnic_iaas_requests_total{action="DescribeNics",result="ok"} 2');
    expect(text).toContain('hostnic_iaas_requests_total{action="AttachNics",result="api-error"} 1');
    expect(text).toContain('# TYPE hostnic_iaas_request_duration_seconds histogram');
    expect(text).toContain('hostnic_iaas_request_duration_seconds_bucket{le="0.025",action="DescribeNics",result="ok"} 1');
    expect(text).toContain('hostnic_iaas_request_duration_seconds_count{action="AttachNics",result="api-error"} 1');
  });
});

describe('timed', () => {
  it('records one observation with result ok or error and passes the outcome through', async () => {
    const m = new Metrics({ component: 'c', version: '0', processMetrics: false });
    const h = m.histogram('hostnic_reconcile_duration_seconds', 'Reconcile duration.', ['loop', 'result']);
    expect(await timed(h, { loop: 'ippool' }, () => Promise.resolve(7))).toBe(7);
    await expect(timed(h, { loop: 'ippool' }, () => Promise.reject(new Error('x')))).rejects.toThrow('x');
    const text = await m.render();
    expect(text).toContain('hostnic_reconcile_duration_seconds_count{loop="ippool",result="ok"} 1');
    expect(text).toContain('hostnic_reconcile_duration_seconds_count{loop="ippool",result="error"} 1');
  });
});
