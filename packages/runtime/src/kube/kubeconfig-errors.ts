/** The kubeconfig loader's error when there is nothing to load. */

/** No kubeconfig was given and none could be found. */
export class KubeConfigNotFoundError extends Error {
  override name = 'KubeConfigNotFoundError';

  constructor() {
    super('no kubeconfig found: pass --kubeconfig <file>, set KUBECONFIG, or run inside the cluster (KUBERNETES_SERVICE_HOST unset)');
  }
}
