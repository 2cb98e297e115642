import { describe, expect, it } from 'vitest';
import { MIGRATIONS, SCHEMA_VERSION, SchemaTooNewError } from '../../src/datastore/index.ts';
import { encode } from '../../src/datastore/codec.ts';
import { SCHEMA_1_AS_READ_NOW, writeSchema1Datastore } from './fixtures/schema-1.ts';
import { openStore, tempDir, writeRaw } from './helpers.ts';

/**
 * Every schema an agent has ever written, each with a writer frozen at that schema and what the current
 * agent must read from it. A release that raises SCHEMA_VERSION adds the writer of the schema it leaves.
 */
const FROZEN_SCHEMAS = [{ version: 1, write: writeSchema1Datastore, expected: SCHEMA_1_AS_READ_NOW }];

it('has a frozen datastore for every schema up to the current one, and a migration from each older one', () => {
  expect(FROZEN_SCHEMAS.map((s) => s.version)).toEqual(Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1));
  expect(MIGRATIONS.map((m) => m.from).sort()).toEqual(Array.from({ length: SCHEMA_VERSION - 1 }, (_, i) => i + 1));
});

describe.each(FROZEN_SCHEMAS)('a datastore left by a schema-$version agent', ({ version, write, expected }) => {
  it('is opened in place by this agent, every record readable, and stays current after', async () => {
    const dir = tempDir();
    await write(dir);
    const store = openStore(dir);
    expect(store.schema).toEqual(
      version === SCHEMA_VERSION ? { kind: 'current', version } : { kind: 'migrated', from: version, version: SCHEMA_VERSION },
    );
    const snap = store.snapshot();
    expect(snap.problems).toEqual([]);
    expect({ bootId: snap.bootId, nics: snap.nics, pods: snap.pods, routeTables: snap.routeTables, intents: snap.intents })
      .toEqual({ bootId: expected.bootId, nics: expected.nics, pods: expected.pods, routeTables: expected.routeTables, intents: expected.intents });
    // The intent sequence survives, so new intents never reuse an id of the old agent.
    expect((await store.beginIntent('create-nic', { vxnetId: 'vxnet-c' })).id).toBe(expected.nextIntentId);
    await store.close();
    expect(openStore(dir).schema).toEqual({ kind: 'current', version: SCHEMA_VERSION });
  });
});

it('refuses, naming both schemas and the fix, a datastore that a newer agent wrote', async () => {
  const dir = tempDir();
  await writeSchema1Datastore(dir);
  await writeRaw(dir, 'meta', 'schema', encode(SCHEMA_VERSION + 1));
  expect(() => openStore(dir)).toThrow(SchemaTooNewError);
  expect(() => openStore(dir)).toThrow(
    `the agent datastore at ${dir} uses schema ${SCHEMA_VERSION + 1}, this hostnic-agent reads up to schema ${SCHEMA_VERSION}: ` +
      'run a release at least as new as the one that wrote it',
  );
});
