/** The agent bench's pure parts: percentiles, metric parsing, request counting and the goal check. */
import { describe, expect, it } from 'vitest';
import { atMost, claimWrites, countRequests, formatTable, metricValue, operationRequests, percentiles, ratio, stepMedians } from '../../bench/report.ts';

describe('the agent bench report', () => {
  it('takes nearest-rank percentiles', () => {
    expect(percentiles([5, 1, 4, 2, 3])).toEqual({ p50: 3, p99: 5 });
    expect(percentiles([])).toEqual({ p50: Number.NaN, p99: Number.NaN });
  });

  it('reads a metric with or without labels, and not one whose name only starts the same', () => {
    const text = ['# HELP x', 'nodejs_eventloop_lag_max_seconds_total 9', 'nodejs_eventloop_lag_max_seconds{node_name="n1"} 0.0123', ''].join('\n');
    expect(metricValue(text, 'nodejs_eventloop_lag_max_seconds')).toBe(0.0123);
    expect(metricValue('process_resident_memory_bytes 1024', 'process_resident_memory_bytes')).toBe(1024);
    expect(metricValue(text, 'absent')).toBeUndefined();
  });

  it('takes the p50 of each step of the agent\'s log lines', () => {
    const log = [
      '{"msg":"pod added","stepsMs":{"wire-pod":4,"record":1}}',
      'not json "msg":"pod added"',
      '{"msg":"pod added","stepsMs":{"wire-pod":6,"record":3}}',
      '{"msg":"pod deleted","stepsMs":{"unwire-pod":9}}',
    ].join('\n');
    expect(stepMedians(log, 'pod added')).toEqual({ 'wire-pod': 4, record: 1 });
    expect(stepMedians(log, 'pod deleted')).toEqual({ 'unwire-pod': 9 });
  });

  it('sums the apiserver requests the agent logged per operation, skipping lines without them', () => {
    const log = [
      '{"msg":"pod added","api":{"reads":0,"writes":0}}',
      '{"msg":"pod added","api":{"reads":1,"writes":2}}',
      '{"msg":"pod added"}',
      '{"msg":"pod deleted","api":{"reads":5,"writes":5}}',
    ].join('\n');
    expect(operationRequests(log, 'pod added')).toEqual({ operations: 2, reads: 1, writes: 2 });
    expect(operationRequests('', 'pod added')).toEqual({ operations: 0, reads: 0, writes: 0 });
  });

  it('splits the claim\'s background writes into refills (claim handle and its block) and publishes', () => {
    const entries = [
      { verb: 'update', resource: 'ipamblocks', name: 'b1' },
      { verb: 'update', resource: 'ipamhandles', name: 'claim.node-1' },
      { verb: 'update', resource: 'ipamblocks', name: 'b1' },
      { verb: 'update', resource: 'ipamblocks', name: 'b1' },
      { verb: 'get', resource: 'ipamblocks', name: 'b1' },
      { verb: 'create', resource: 'ipamhandles', name: 'default.web.abc' },
    ];
    expect(claimWrites(entries)).toEqual({ refill: 2, publish: 2 });
  });

  it('counts reads and writes; watches are neither', () => {
    expect(countRequests(['get', 'list', 'watch', 'create', 'patch', 'update', 'delete', undefined])).toEqual({ reads: 2, writes: 4 });
  });

  it('marks a goal met, missed, or unknown', () => {
    expect(atMost(1, 2)).toBe(true);
    expect(atMost(3, 2)).toBe(false);
    expect(atMost(undefined, 2)).toBeUndefined();
    expect(atMost(Number.NaN, 2)).toBeUndefined();
    expect(ratio(3, 2)).toBe('1.50 x');
    expect(ratio(3, 0)).toBe('n/a');
    const table = formatTable([{ figure: 'ADD p50', value: '10.0 ms', reference: 'node 8.0 ms', goal: '<= 10 ms', met: true }]).split('\n');
    expect(table).toHaveLength(2);
    expect(table[1]).toMatch(/^ {2}ADD p50 .*yes$/);
  });
});
