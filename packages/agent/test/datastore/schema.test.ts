import { describe, expect, it } from 'vitest';
import { encode } from '../../src/datastore/codec.ts';
import { openEnv } from '../../src/datastore/env.ts';
import type { Migration } from '../../src/datastore/index.ts';
import {
  AgentDatastore,
  DatastoreError,
  ensureSchema,
  SCHEMA_VERSION,
  SchemaCorruptError,
  SchemaMigrationError,
  SchemaTooNewError,
} from '../../src/datastore/index.ts';
import { openStore, tempDir, writeRaw } from './helpers.ts';

describe('schema version', () => {
  it('stamps a new directory and recognises it on reopen', async () => {
    const dir = tempDir();
    const first = openStore(dir);
    expect(first.schema).toEqual({ kind: 'created', version: SCHEMA_VERSION });
    await first.close();
    expect(openStore(dir).schema).toEqual({ kind: 'current', version: SCHEMA_VERSION });
  });

  it('refuses a directory written by a newer schema with a typed error', async () => {
    const dir = tempDir();
    await openStore(dir).close();
    await writeRaw(dir, 'meta', 'schema', encode(SCHEMA_VERSION + 1));
    let caught: unknown;
    try {
      AgentDatastore.open(dir);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(SchemaTooNewError);
    expect(caught).toBeInstanceOf(DatastoreError);
    expect(caught).toMatchObject({ found: SCHEMA_VERSION + 1, supported: SCHEMA_VERSION, code: 'DATASTORE_SCHEMA_TOO_NEW' });
    expect(String(caught)).toMatch(/schema 2.*up to schema 1/);
  });

  it('refuses an unreadable schema marker', async () => {
    const dir = tempDir();
    await openStore(dir).close();
    await writeRaw(dir, 'meta', 'schema', Buffer.from('"one"'));
    expect(() => AgentDatastore.open(dir)).toThrow(SchemaCorruptError);
    await writeRaw(dir, 'meta', 'schema', Buffer.from([0xff, 0xfe]));
    expect(() => AgentDatastore.open(dir)).toThrow(SchemaCorruptError);
  });

  describe('migration mechanism', () => {
    async function v1Env(): Promise<string> {
      const dir = tempDir();
      const store = openStore(dir);
      await store.beginIntent('create-nic', { vxnetId: 'vxnet-a' });
      await store.close();
      return dir;
    }

    const addMarker: Migration = {
      from: 1,
      description: 'mark every intent',
      apply(env) {
        for (const { key, value } of env.intents.getRange()) {
          const intent = JSON.parse(value.toString('utf8')) as { data: Record<string, unknown> };
          intent.data['migrated'] = true;
          env.intents.putSync(key, encode(intent));
        }
      },
    };

    it('runs each step in order and advances the marker', async () => {
      const dir = await v1Env();
      const env = openEnv(dir);
      try {
        const second: Migration = { from: 2, description: 'noop', apply: () => undefined };
        expect(ensureSchema(env, dir, 3, [second, addMarker])).toEqual({ kind: 'migrated', from: 1, version: 3 });
        expect(ensureSchema(env, dir, 3, [])).toEqual({ kind: 'current', version: 3 });
        const [entry] = [...env.intents.getRange()];
        expect(JSON.parse(entry?.value.toString('utf8') ?? '{}')).toMatchObject({ data: { migrated: true } });
      } finally {
        await env.root.close();
      }
    });

    it('rolls everything back when a step is missing or fails', async () => {
      const dir = await v1Env();
      const env = openEnv(dir);
      try {
        expect(() => ensureSchema(env, dir, 3, [addMarker])).toThrow(SchemaMigrationError);
        const failing: Migration = {
          from: 1,
          description: 'explode',
          apply: () => {
            throw new Error('boom');
          },
        };
        expect(() => ensureSchema(env, dir, 2, [failing])).toThrow(/explode failed/);
        expect(ensureSchema(env, dir, 1, [])).toEqual({ kind: 'current', version: 1 });
        const [entry] = [...env.intents.getRange()];
        expect(JSON.parse(entry?.value.toString('utf8') ?? '{}')).not.toHaveProperty('data.migrated');
      } finally {
        await env.root.close();
      }
    });
  });
});
