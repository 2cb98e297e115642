/** The lean client on a fake kube-apiserver, with the fake's CA and its admin token. */
import { KubeClient, fixedToken } from '@hostnic/runtime/kube/http';
import type { KubeClientOptions } from '@hostnic/runtime/kube/http';
import type { FakeKubeApiServer } from '@hostnic/sandbox/kube';

export function kubeClientOf(server: FakeKubeApiServer, options: KubeClientOptions = {}): KubeClient {
  const token = server.kubeConfig().users[0]?.token;
  const tls = server.ca === '' ? { insecureSkipTlsVerify: true } : { ca: Buffer.from(server.ca), insecureSkipTlsVerify: false };
  return new KubeClient({ server: server.url, ...tls, token: fixedToken(token) }, options);
}
