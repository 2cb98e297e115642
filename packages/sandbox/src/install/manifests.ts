/**
 * The files the install steps of the README have the operator write (hostnic-cm.yaml, clusterconfig-cm.yaml,
 * vxnetpool.yaml, hostnic-ipam-config.yaml), as YAML shaped like the README's: multi-line values as block
 * scalars, every scalar double-quoted so no value is read as another type.
 */

const q = (s: string): string => JSON.stringify(s);

/** `key: |` followed by the value's lines, indented; `|-` when the value has no final newline. */
function blockScalar(key: string, value: string, indent: string): string[] {
  if (value === '') return [`${indent}${q(key)}: ""`];
  const chomp = value.endsWith('\n') ? '|' : '|-';
  const body = (value.endsWith('\n') ? value.slice(0, -1) : value).split('\n');
  return [`${indent}${q(key)}: ${chomp}`, ...body.map((line) => (line === '' ? '' : `${indent}  ${line}`))];
}

export function configMapYaml(name: string, namespace: string, data: Readonly<Record<string, string>>): string {
  const lines = ['apiVersion: v1', 'kind: ConfigMap', 'metadata:', `  name: ${q(name)}`, `  namespace: ${q(namespace)}`, 'data:'];
  for (const [key, value] of Object.entries(data)) {
    if (value.includes('\n')) lines.push(...blockScalar(key, value, '  '));
    else lines.push(`  ${q(key)}: ${q(value)}`);
  }
  return `${lines.join('\n')}\n`;
}

export function vxnetPoolYaml(vxnets: readonly string[], blockSize: number): string {
  return [
    'apiVersion: network.qingcloud.com/v1alpha1',
    'kind: VxNetPool',
    'metadata:',
    '  name: v-pool',
    'spec:',
    '  vxnets:',
    ...vxnets.map((v) => `    - name: ${q(v)}`),
    `  blockSize: ${blockSize}`,
    '',
  ].join('\n');
}
