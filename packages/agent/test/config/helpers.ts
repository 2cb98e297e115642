import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import type { CliIo } from '../../src/cli.ts';

export interface Captured {
  io: CliIo;
  out: () => string;
  err: () => string;
}

/** A CliIo whose output the test reads back. */
export function capture(env: Record<string, string | undefined> = {}): Captured {
  let out = '';
  let err = '';
  return {
    io: { stdout: (t) => (out += t), stderr: (t) => (err += t), env },
    out: () => out,
    err: () => err,
  };
}

/** One request the stand-in agent received. */
export interface StandInRequest {
  method: string;
  url: string;
  body: string;
}

/**
 * Stand-in agents on unix sockets, closed after each test: each answers every request with what `handler`
 * returns for it. Resolves to the socket path.
 */
export function useStandInAgents(): (handler: (r: StandInRequest) => { status: number; body: unknown }) => Promise<string> {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
  });
  return async (handler) => {
    // Short and unique: a unix socket path must stay under 108 bytes. The server removes it on close.
    const socket = path.join(os.tmpdir(), `hn-cli-${process.pid}-${randomBytes(4).toString('hex')}.sock`);
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const { status, body } = handler({ method: req.method ?? '', url: req.url ?? '', body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      });
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    return socket;
  };
}

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
