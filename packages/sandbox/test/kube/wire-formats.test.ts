import { expect, test } from 'vitest';
import { openApiV2 } from '../../src/kube/openapi.ts';
import { ProtobufError, decodeKubernetesProtobuf } from '../../src/kube/protobuf.ts';
import { crdColumns, humanDuration, simpleJsonPath, tableVersionAccepted, toTable } from '../../src/kube/tables.ts';
import { subjectAltNames } from '../../src/kube/tls.ts';

/** A length-delimited protobuf field (wire type 2). */
function field(number: number, value: Buffer | string): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value) : value;
  return Buffer.concat([Buffer.from([(number << 3) | 2, bytes.length]), bytes]);
}

function envelope(apiVersion: string, kind: string, raw: Buffer): Buffer {
  return Buffer.concat([Buffer.from('k8s\0', 'binary'), field(1, Buffer.concat([field(1, apiVersion), field(2, kind)])), field(2, raw)]);
}

test('protobuf: a ConfigMap and a Secret as kubectl create sends them; empty scalars dropped as JSON omits them', () => {
  const meta = Buffer.concat([field(1, 'settings'), field(2, ''), field(3, 'team-a'), field(11, Buffer.concat([field(1, 'app'), field(2, 'x')]))]);
  const cm = decodeKubernetesProtobuf(envelope('v1', 'ConfigMap', Buffer.concat([field(1, meta), field(2, Buffer.concat([field(1, 'mode'), field(2, 'fast')]))])));
  expect(cm).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'team-a', labels: { app: 'x' } }, data: { mode: 'fast' } });
  const secret = decodeKubernetesProtobuf(envelope('v1', 'Secret', Buffer.concat([field(1, field(1, 's')), field(2, Buffer.concat([field(1, 'k'), field(2, Buffer.from([0, 255]))])), field(3, 'Opaque')])));
  expect(secret).toEqual({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { k: 'AP8=' }, type: 'Opaque' });
});

test('protobuf: bad magic and truncation are malformed; an undescribed kind is unsupported and named', () => {
  expect(() => decodeKubernetesProtobuf(Buffer.from('{"kind":"ConfigMap"}'))).toThrow(/magic/);
  const truncated = envelope('v1', 'ConfigMap', field(1, field(1, 'c'))).subarray(0, 20);
  expect(() => decodeKubernetesProtobuf(truncated)).toThrow(ProtobufError);
  try {
    decodeKubernetesProtobuf(envelope('v1', 'Pod', Buffer.alloc(0)));
    expect.unreachable();
  } catch (error) {
    expect(error).toBeInstanceOf(ProtobufError);
    expect((error as ProtobufError).reason).toBe('unsupported');
    expect((error as ProtobufError).message).toContain('v1 Pod');
  }
});

test('tables: the Accept header decides; durations read as kubectl prints them', () => {
  expect(tableVersionAccepted('application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json')).toBe('meta.k8s.io/v1');
  expect(tableVersionAccepted('application/json')).toBeUndefined();
  expect(tableVersionAccepted(undefined)).toBeUndefined();
  expect(tableVersionAccepted('application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io,application/json')).toBeUndefined();
  expect([5_000, 150_000, 600_000, 7_200_000, 14_400_000 + 60_000, 30 * 3_600_000, 3 * 86_400_000 + 3_600_000, 400 * 86_400_000, 3 * 365 * 86_400_000 + 86_400_000].map(humanDuration))
    .toEqual(['5s', '2m30s', '10m', '120m', '4h1m', '30h', '3d1h', '400d', '3y1d']);
});

test('tables: CRD printer columns with typed cells, missing values null; rows carry partial metadata', () => {
  const crd = { spec: { versions: [{ name: 'v1', additionalPrinterColumns: [
    { name: 'Ready', type: 'boolean', jsonPath: '.status.ready' },
    { name: 'First', type: 'string', jsonPath: '.spec.vxnets[0].name' },
    { name: 'Size', type: 'integer', jsonPath: '.spec.blockSize' },
  ] }] } };
  const obj = { metadata: { name: 'v-pool', resourceVersion: '7' }, spec: { vxnets: [{ name: 'vxnet-a' }], blockSize: 26 } };
  expect(simpleJsonPath(obj, '{.spec.vxnets[0].name}')).toBe('vxnet-a');
  const table = toTable(obj, { columns: crdColumns(crd, 'v1'), includeObject: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', now: new Date() });
  expect(table['columnDefinitions']).toMatchObject([{ name: 'Name', format: 'name' }, { name: 'Ready', type: 'boolean' }, { name: 'First' }, { name: 'Size', type: 'integer' }]);
  expect(table['rows']).toEqual([{ cells: ['v-pool', null, 'vxnet-a', 26], object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata } }]);
  expect(crdColumns(undefined, 'v1').map((c) => c.name)).toEqual(['Age']);
});

test('certificates name loopback and the listen host', () => {
  expect(subjectAltNames('127.0.0.1')).toBe('IP:127.0.0.1,IP:::1,DNS:localhost');
  expect(subjectAltNames('10.0.0.5')).toBe('IP:127.0.0.1,IP:::1,DNS:localhost,IP:10.0.0.5');
  expect(subjectAltNames('kube.local')).toBe('IP:127.0.0.1,IP:::1,DNS:localhost,DNS:kube.local');
  expect(subjectAltNames('0.0.0.0')).toBe('IP:127.0.0.1,IP:::1,DNS:localhost');
});

test('OpenAPI v2 for older kubectl: gnostic protobuf (swagger 1, info 2) or JSON, without definitions', () => {
  const pb = openApiV2(true);
  expect(pb.contentType).toBe('application/octet-stream');
  expect(pb.body.subarray(0, 5)).toEqual(Buffer.from([0x0a, 0x03, 0x32, 0x2e, 0x30]));
  expect(pb.body.includes(Buffer.from('Kubernetes'))).toBe(true);
  expect(JSON.parse(openApiV2(false).body.toString())).toEqual({ swagger: '2.0', info: { title: 'Kubernetes', version: 'v1.33.0' }, paths: {}, definitions: {} });
});
