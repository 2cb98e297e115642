import { expect, test } from 'vitest';
import type { JsonObject } from '../../src/kube/json.ts';
import { PatchError } from '../../src/kube/patch.ts';
import { applyStrategicMergePatch } from '../../src/kube/strategic-patch.ts';

const volumes = [{ name: 'v', emptyDir: {} }, { name: 'w', emptyDir: {} }];
const podSpec: JsonObject = {
  spec: {
    containers: [
      { name: 'a', image: 'a:1', env: [{ name: 'X', value: '1' }, { name: 'Y', value: '2' }], volumeMounts: [{ name: 'v', mountPath: '/v' }] },
      { name: 'b', image: 'b:1' },
    ],
    volumes,
    tolerations: [{ operator: 'Exists' }],
  },
  metadata: { finalizers: ['f1'] },
};

test('lists with a merge key merge item by item; others are replaced; primitive merge lists are unions', () => {
  const out = applyStrategicMergePatch(podSpec, {
    spec: {
      containers: [{ name: 'a', image: 'a:2', env: [{ name: 'Z', value: '3' }] }],
      tolerations: [{ key: 'k', operator: 'Equal', value: 'v' }],
    },
    metadata: { finalizers: ['f2'] },
  });
  expect(out).toEqual({
    spec: {
      containers: [
        { name: 'a', image: 'a:2', env: [{ name: 'X', value: '1' }, { name: 'Y', value: '2' }, { name: 'Z', value: '3' }], volumeMounts: [{ name: 'v', mountPath: '/v' }] },
        { name: 'b', image: 'b:1' },
      ],
      volumes,
      tolerations: [{ key: 'k', operator: 'Equal', value: 'v' }],
    },
    metadata: { finalizers: ['f1', 'f2'] },
  });
});

test('directives: $patch delete and replace, $setElementOrder, $retainKeys, $deleteFromPrimitiveList', () => {
  const out = applyStrategicMergePatch(podSpec, {
    spec: {
      '$setElementOrder/containers': [{ name: 'b' }, { name: 'a' }],
      containers: [{ name: 'a', env: [{ name: 'X', $patch: 'delete' }] }],
      volumes: [{ name: 'w', $patch: 'delete' }],
    },
    metadata: { '$deleteFromPrimitiveList/finalizers': ['f1'] },
  });
  expect(out).toMatchObject({
    spec: {
      containers: [{ name: 'b' }, { name: 'a', env: [{ name: 'Y', value: '2' }] }],
      volumes: [{ name: 'v', emptyDir: {} }],
    },
    metadata: { finalizers: [] },
  });
  const replaced = applyStrategicMergePatch(podSpec, { spec: { volumes: [{ $patch: 'replace' }, { name: 'n', hostPath: { path: '/n' } }] } });
  expect(replaced).toMatchObject({ spec: { volumes: [{ name: 'n', hostPath: { path: '/n' } }] } });
  const retained = applyStrategicMergePatch({ spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } } } },
    { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } });
  expect(retained).toEqual({ spec: { strategy: { type: 'Recreate' } } });
  const mapReplaced = applyStrategicMergePatch({ metadata: { labels: { a: '1', b: '2' } } }, { metadata: { labels: { $patch: 'replace', c: '3' } } });
  expect(mapReplaced).toEqual({ metadata: { labels: { c: '3' } } });
});

test('a malformed directive is a malformed patch', () => {
  expect(() => applyStrategicMergePatch(podSpec, { spec: { $patch: 'explode' } })).toThrow(PatchError);
  expect(() => applyStrategicMergePatch(podSpec, [])).toThrow('must be a JSON object');
});
