import { describe, expect, it } from 'vitest';
import type { ExecResult } from '../src/index.ts';
import {
  CommandError,
  ExistsError,
  InvalidArgumentError,
  NetnsGoneError,
  NotFoundError,
  PermissionError,
  applyBatch,
  batchText,
  errnoOf,
  interpretBatch,
  interpretReadBatch,
  onSpawn,
  op,
  parseBatchStderr,
  run,
  spawnCount,
  TimeoutError,
} from '../src/index.ts';
import { nsenterFailure } from '../src/netns.ts';
import { netnsAtPath } from '../src/index.ts';

function result(stderr: string, code: number, stdout = ''): ExecResult {
  return { argv: ['ip', '-force', '-batch', '-'], code, signal: null, stdout, stderr, durationMs: 1 };
}

// Captured on this machine (iproute2 6.1, Linux 6.18) from `ip -force -batch -`.
const FORCE_STDERR = `RTNETLINK answers: File exists
Command failed -:2
Error: Nexthop has invalid gateway.
Command failed -:3
RTNETLINK answers: Cannot assign requested address
Command failed -:4
RTNETLINK answers: No such process
Command failed -:5
Cannot find device "nosuch"
Command failed -:6
Error: ipv4: Address not found.
Command failed -:7
RTNETLINK answers: No such file or directory
Command failed -:8
`;

// `neigh del` of a missing entry makes ip exit(2) mid-batch: no "Command failed" line for it.
const ABORT_STDERR = `Cannot find device "nosuch"
Command failed -:9
RTNETLINK answers: No such file or directory
Command failed -:10
RTNETLINK answers: No such process
Command failed -:11
RTNETLINK answers: No such file or directory
`;

describe('batch text', () => {
  it('joins validated tokens, one command per line', () => {
    const text = batchText([op(['link', 'set', 'dev', 'eth0', 'up']), op(['rule', 'add', 'priority', '1535', 'to', '1.2.3.4/32', 'table', '254'])]);
    expect(text).toBe('link set dev eth0 up\nrule add priority 1535 to 1.2.3.4/32 table 254\n');
  });

  it('rejects tokens ip would split, unquote or treat as comments', () => {
    for (const bad of ['', 'a b', 'a"b', "a'b", 'a\\b', '#x', 'a\nb']) {
      expect(() => op(['link', 'set', bad]), JSON.stringify(bad)).toThrow(InvalidArgumentError);
    }
  });
});

describe('stderr parsing', () => {
  it('assigns each message to its failed line', () => {
    const parsed = parseBatchStderr(FORCE_STDERR);
    expect(parsed.failures.map((f) => f.lineNo)).toEqual([2, 3, 4, 5, 6, 7, 8]);
    expect(parsed.failures[0]?.message).toBe('RTNETLINK answers: File exists');
    expect(parsed.trailing).toBe('');
  });

  it('keeps the unterminated message of an abort as trailing text', () => {
    const parsed = parseBatchStderr(ABORT_STDERR);
    expect(parsed.failures.map((f) => f.lineNo)).toEqual([9, 10, 11]);
    expect(parsed.trailing).toBe('RTNETLINK answers: No such file or directory');
  });

  it('separates prelude messages', () => {
    const parsed = parseBatchStderr('hostnic-prelude: cannot set default rp_filter\nRTNETLINK answers: File exists\nCommand failed -:1\n');
    expect(parsed.preludeMessages).toEqual(['cannot set default rp_filter']);
    expect(parsed.failures).toEqual([{ lineNo: 1, message: 'RTNETLINK answers: File exists' }]);
  });
});

describe('errno recognition', () => {
  it.each([
    ['RTNETLINK answers: File exists', 'EEXIST'],
    ['RTNETLINK answers: No such file or directory', 'ENOENT'],
    ['RTNETLINK answers: No such process', 'ESRCH'],
    ['RTNETLINK answers: Operation not permitted', 'EPERM'],
    ['RTNETLINK answers: Operation not supported', 'EOPNOTSUPP'],
    ['RTNETLINK answers: Cannot assign requested address', 'EADDRNOTAVAIL'],
    ['Cannot find device "eth9"', 'ENODEV'],
    ['Device "nosuch" does not exist.', 'ENODEV'],
    ['Error: argument "nosuchbr" is wrong: Device does not exist', 'ENODEV'],
    ['Error: ipv4: Address already assigned.', 'EEXIST'],
    ['Error: ipv4: Address not found.', 'EADDRNOTAVAIL'],
    ['Error: mtu greater than device maximum.', undefined],
    ['nsenter: cannot open /var/run/netns/nonexist: No such file or directory', 'ENOENT'],
    ["nsenter: reassociate to namespace 'ns/net' failed: Invalid argument", 'EINVAL'],
  ])('%s', (message, errno) => {
    expect(errnoOf(message)).toBe(errno);
  });
});

describe('per-op outcomes', () => {
  const ops = [
    op(['link', 'set', 'dev', 'a', 'up']),
    op(['route', 'add', '10.1.0.0/24', 'dev', 'b0'], ['EEXIST']),
    op(['route', 'replace', '10.7.0.0/24', 'via', '10.99.0.1', 'dev', 'b0']),
    op(['addr', 'del', '10.1.0.1/24', 'dev', 'v0']),
    op(['route', 'del', '10.7.0.0/24', 'table', '260'], ['ESRCH']),
    op(['link', 'set', 'dev', 'nosuch', 'up']),
    op(['addr', 'del', '10.9.9.9/32', 'dev', 'b0'], ['EADDRNOTAVAIL']),
    op(['rule', 'add', 'priority', '1', 'table', '254']),
    op(['link', 'set', 'dev', 'c', 'up']),
  ];

  it('classifies failures with -force', () => {
    const r = interpretBatch(ops, result(FORCE_STDERR, 1), true);
    expect(r.outcomes.map((o) => o.status)).toEqual(['ok', 'already', 'failed', 'failed', 'already', 'failed', 'already', 'failed', 'ok']);
    expect(r.ok).toBe(false);
    expect(r.error).toBeInstanceOf(CommandError);
    expect(r.error?.lineNo).toBe(3);
    expect(r.error?.line).toBe('route replace 10.7.0.0/24 via 10.99.0.1 dev b0');
    expect(r.error?.kernelMessage).toBe('Error: Nexthop has invalid gateway.');
    expect(r.outcomes[5]?.error).toBeInstanceOf(NotFoundError);
    expect(r.outcomes[7]?.error).toBeInstanceOf(NotFoundError);
    expect(r.error?.message).toContain('batch line 3');
  });

  it('marks lines after a failure as not run without -force', () => {
    const r = interpretBatch(ops.slice(0, 4), result('RTNETLINK answers: File exists\nCommand failed -:1\n', 1), false);
    expect(r.outcomes.map((o) => o.status)).toEqual(['failed', 'not-run', 'not-run', 'not-run']);
    expect(r.error).toBeInstanceOf(ExistsError);
  });

  it('marks lines after the last report as unknown when ip aborted', () => {
    const many = Array.from({ length: 13 }, (_, i) => op(['link', 'set', 'dev', `l${i}`, 'up']));
    const r = interpretBatch(many, result(ABORT_STDERR, 2), true);
    expect(r.outcomes.slice(11).map((o) => o.status)).toEqual(['unknown', 'unknown']);
    expect(r.outcomes[8]?.status).toBe('failed');
    expect(r.error?.lineNo).toBe(9);
    const abort = r.outcomes[12]?.error;
    expect(abort?.message).toContain('batch aborted after line 11');
    expect(abort?.kernelMessage).toBe('RTNETLINK answers: No such file or directory');
  });

  it('maps EPERM to PermissionError', () => {
    const r = interpretBatch([ops[0] ?? op(['x'])], result('RTNETLINK answers: Operation not permitted\nCommand failed -:1\n', 1), true);
    expect(r.error).toBeInstanceOf(PermissionError);
  });

  it('spawns nothing for an empty batch', async () => {
    let calls = 0;
    const r = await applyBatch([], {
      exec: () => {
        calls++;
        return Promise.resolve(result('', 0));
      },
    });
    expect(r.ok).toBe(true);
    expect(calls).toBe(0);
  });

  it('reports a vanished namespace as NetnsGoneError', async () => {
    const ns = netnsAtPath('/var/run/netns/hnl-gone');
    await expect(
      applyBatch([ops[0] ?? op(['x'])], {
        netns: ns,
        exec: (req) =>
          Promise.resolve({
            ...result('nsenter: cannot open /var/run/netns/hnl-gone: No such file or directory\n', 1),
            argv: req.argv,
          }),
      }),
    ).rejects.toBeInstanceOf(NetnsGoneError);
    const notNs = nsenterFailure(ns, result("nsenter: reassociate to namespace 'ns/net' failed: Invalid argument\n", 1));
    expect(notNs).toBeInstanceOf(NetnsGoneError);
    expect(nsenterFailure(ns, result('RTNETLINK answers: File exists\nCommand failed -:1\n', 1))).toBeUndefined();
  });
});

describe('read batches', () => {
  it('matches JSON lines to the commands that did not fail', () => {
    const commands = [['rule', 'show'], ['link', 'show', 'dev', 'nosuch'], ['route', 'show', 'table', '999']];
    const out = interpretReadBatch(
      commands,
      result('Device "nosuch" does not exist.\nCommand failed -:2\n', 1, '[{"priority":0,"src":"all","table":"255"}]\n[]\n'),
    );
    expect(out[0]).toEqual({ ok: true, value: [{ priority: 0, src: 'all', table: '255' }] });
    expect(out[1]?.ok).toBe(false);
    if (out[1] && !out[1].ok) expect(out[1].error).toBeInstanceOf(NotFoundError);
    expect(out[2]).toEqual({ ok: true, value: [] });
  });
});

describe('multi-line messages', () => {
  it('finds the errno above a trailing "Dump terminated"', () => {
    const out = interpretReadBatch(
      [['route', 'show', 'table', '777']],
      result('Error: ipv4: FIB table does not exist.\nDump terminated\nCommand failed -:1\n', 1),
    );
    expect(out[0]?.ok).toBe(false);
    if (out[0] && !out[0].ok) expect(out[0].error.errno).toBe('ENOENT');
  });
});

describe('process execution', () => {
  it('counts spawns, collects output, and kills a process past its deadline', async () => {
    const seen: string[][] = [];
    const stop = onSpawn((argv) => seen.push([...argv]));
    const before = spawnCount();
    try {
      const r = await run({ argv: ['sh', '-c', 'cat; echo err >&2; exit 3'], input: 'hello' });
      expect(r).toMatchObject({ code: 3, stdout: 'hello', stderr: 'err\n' });
      await expect(run({ argv: ['sleep', '5'], timeoutMs: 100 })).rejects.toBeInstanceOf(TimeoutError);
      await expect(run({ argv: ['hnl-no-such-program'] })).rejects.toBeInstanceOf(CommandError);
    } finally {
      stop();
    }
    expect(spawnCount() - before).toBe(3);
    expect(seen[0]?.[0]).toBe('sh');
  });
});
