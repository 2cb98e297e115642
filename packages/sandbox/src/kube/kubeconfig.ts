/** The shape KubeConfig.loadFromOptions takes (a subset of @kubernetes/client-node's ConfigOptions). */
export interface KubeConfigOptions {
  /** `caData`: the CA certificate, base64 of its PEM, as in a kubeconfig's certificate-authority-data. */
  clusters: { name: string; server: string; caData?: string; skipTLSVerify: boolean }[];
  /** `certData`/`keyData`: base64 of the PEM, as in a kubeconfig's client-certificate-data/client-key-data. */
  users: { name: string; token?: string; certData?: string; keyData?: string }[];
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
  /**
   * Authenticate with this client certificate (from `server.clientCertificate(user)`) instead of a token
   * (none is written unless `token` is given too).
   */
  clientCertificate?: { readonly cert: string; readonly key: string };
}

/** Where the fake listens and the PEM of the CA its serving certificate chains to ('' when it speaks plain HTTP). */
export interface ClusterEndpoint {
  server: string;
  ca: string;
}

/**
 * The server's certificate is verified against its CA, as against a real cluster's. Plain HTTP (no CA) needs
 * skipTLSVerify, without which client-node refuses http:// URLs.
 */
function userToken(serverToken: string | undefined, settings: KubeconfigSettings): string | undefined {
  return settings.token ?? (settings.clientCertificate === undefined ? serverToken : undefined);
}

export function kubeConfigOptions(cluster: ClusterEndpoint, serverToken: string | undefined, settings: KubeconfigSettings = {}): KubeConfigOptions {
  const token = userToken(serverToken, settings);
  const name = settings.name ?? 'hostnic-sandbox';
  const user: KubeConfigOptions['users'][number] = { name };
  if (token !== undefined) user.token = token;
  if (settings.clientCertificate !== undefined) {
    user.certData = Buffer.from(settings.clientCertificate.cert).toString('base64');
    user.keyData = Buffer.from(settings.clientCertificate.key).toString('base64');
  }
  const context: { name: string; cluster: string; user: string; namespace?: string } = { name, cluster: name, user: name };
  if (settings.namespace !== undefined) context.namespace = settings.namespace;
  return {
    clusters: [cluster.ca === ''
      ? { name, server: cluster.server, skipTLSVerify: true }
      : { name, server: cluster.server, caData: Buffer.from(cluster.ca).toString('base64'), skipTLSVerify: false }],
    users: [user],
    contexts: [context],
    currentContext: name,
  };
}

/** Kubeconfig YAML (scalars JSON-quoted, which YAML reads as double-quoted strings) for client-node or kubectl. */
export function kubeconfigYaml(cluster: ClusterEndpoint, serverToken: string | undefined, settings: KubeconfigSettings = {}): string {
  const q = (s: string): string => JSON.stringify(s);
  const options = kubeConfigOptions(cluster, serverToken, settings);
  const name = options.currentContext;
  const caData = options.clusters[0]?.caData;
  const user = options.users[0] ?? { name };
  const userFields = [
    ...(user.token === undefined ? [] : [`    token: ${q(user.token)}`]),
    ...(user.certData === undefined ? [] : [`    client-certificate-data: ${q(user.certData)}`]),
    ...(user.keyData === undefined ? [] : [`    client-key-data: ${q(user.keyData)}`]),
  ];
  const lines = [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${q(name)}`,
    '  cluster:',
    `    server: ${q(cluster.server)}`,
    caData === undefined ? '    insecure-skip-tls-verify: true' : `    certificate-authority-data: ${q(caData)}`,
    'users:',
    `- name: ${q(name)}`,
    ...(userFields.length === 0 ? ['  user: {}'] : ['  user:', ...userFields]),
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
