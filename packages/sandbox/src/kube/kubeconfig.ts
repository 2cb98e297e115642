/** The shape KubeConfig.loadFromOptions takes (a subset of @kubernetes/client-node's ConfigOptions). */
export interface KubeConfigOptions {
  clusters: { name: string; server: string; skipTLSVerify: boolean }[];
  users: { name: string; token?: string }[];
  contexts: { name: string; cluster: string; user: string; namespace?: string }[];
  currentContext: string;
}

export interface KubeconfigSettings {
  /** Default namespace of the context. */
  namespace?: string;
  /** Names of the cluster, user and context entries. Default `hostnic-sandbox`. */
  name?: string;
  /** Bearer token of the user entry, e.g. one of the server's `users`. Default: the server's own (admin) token. */
  token?: string;
}

/** The fake speaks plain HTTP; client-node accepts http:// only with skipTLSVerify set. */
export function kubeConfigOptions(server: string, serverToken: string | undefined, settings: KubeconfigSettings = {}): KubeConfigOptions {
  const token = settings.token ?? serverToken;
  const name = settings.name ?? 'hostnic-sandbox';
  const user: { name: string; token?: string } = { name };
  if (token !== undefined) user.token = token;
  const context: { name: string; cluster: string; user: string; namespace?: string } = { name, cluster: name, user: name };
  if (settings.namespace !== undefined) context.namespace = settings.namespace;
  return {
    clusters: [{ name, server, skipTLSVerify: true }],
    users: [user],
    contexts: [context],
    currentContext: name,
  };
}

/** Kubeconfig YAML (scalars JSON-quoted, which YAML reads as double-quoted strings) for client-node or kubectl. */
export function kubeconfigYaml(server: string, serverToken: string | undefined, settings: KubeconfigSettings = {}): string {
  const q = (s: string): string => JSON.stringify(s);
  const token = settings.token ?? serverToken;
  const options = kubeConfigOptions(server, serverToken, settings);
  const name = options.currentContext;
  const lines = [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${q(name)}`,
    '  cluster:',
    `    server: ${q(server)}`,
    '    insecure-skip-tls-verify: true',
    'users:',
    `- name: ${q(name)}`,
    token === undefined ? '  user: {}' : `  user:\n    token: ${q(token)}`,
    'contexts:',
    `- name: ${q(name)}`,
    '  context:',
    `    cluster: ${q(name)}`,
    `    user: ${q(name)}`,
    ...(settings.namespace !== undefined ? [`    namespace: ${q(settings.namespace)}`] : []),
    `current-context: ${q(name)}`,
    'preferences: {}',
  ];
  return `${lines.join('\n')}\n`;
}
