/**
 * The node inventory of the NIC janitor, kept in ConfigMap kube-system/hostnic-controller-state (key
 * `nodes.json`): a node deleted while no controller ran is still known as this cluster's when the
 * controller comes back, so its leftover NICs can be found.
 */
import type { ConfigMap, Node } from '../kube/objects.ts';
import { NodeInventory } from '../cleanup/index.ts';
import type { InventoryView } from '../cleanup/index.ts';
import type { Fence } from '../fence.ts';
import type { Logger } from '@hostnic/runtime';
import { errorText } from '@hostnic/runtime';
import { isNotFound, resourcePath } from '@hostnic/runtime/kube/http';
import type { KubeClient } from '@hostnic/runtime/kube/http';

export const STATE_CONFIGMAP = { namespace: 'kube-system', name: 'hostnic-controller-state', key: 'nodes.json' } as const;

const CONFIGMAPS = { version: 'v1', plural: 'configmaps', namespace: STATE_CONFIGMAP.namespace } as const;
const STATE_PATH = resourcePath({ ...CONFIGMAPS, name: STATE_CONFIGMAP.name });

export interface NodeInventoryStoreOptions {
  readonly client: Pick<KubeClient, 'get' | 'create' | 'replace'>;
  readonly fence: Fence;
  readonly log: Logger;
  readonly inventory: NodeInventory;
  readonly now?: () => number;
}

export class NodeInventoryStore {
  readonly #o: NodeInventoryStoreOptions;
  #inventory: NodeInventory;
  #persisted: string | undefined;

  constructor(options: NodeInventoryStoreOptions) {
    this.#o = options;
    this.#inventory = options.inventory;
  }

  view(): InventoryView {
    return this.#inventory;
  }

  async load(): Promise<void> {
    try {
      const cm = await this.#o.client.get<ConfigMap>(STATE_PATH);
      const text = cm.data?.[STATE_CONFIGMAP.key];
      const parsed = NodeInventory.parse(text);
      if (parsed.problems.length > 0) this.#o.log.warn('parts of the stored node inventory were ignored', { problems: parsed.problems });
      this.#inventory = parsed.inventory;
      this.#persisted = text;
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  /** Feeds the complete node list and stores the inventory when it changed. */
  async observe(nodes: readonly Node[]): Promise<void> {
    this.#inventory.observe(nodes, (this.#o.now ?? Date.now)());
    const text = this.#inventory.toJSON();
    if (text === this.#persisted) return;
    try {
      await this.#save(text);
      this.#persisted = text;
    } catch (e) {
      // The janitor still works from memory; the next sweep tries to store again.
      this.#o.log.warn('storing the node inventory failed', { error: errorText(e) });
    }
  }

  async #save(text: string): Promise<void> {
    const { namespace, name, key } = STATE_CONFIGMAP;
    this.#o.fence.check(`update ConfigMap ${namespace}/${name}`);
    try {
      const cm = await this.#o.client.get<ConfigMap>(STATE_PATH);
      await this.#o.client.replace(STATE_PATH, { ...cm, data: { ...cm.data, [key]: text } });
    } catch (e) {
      if (!isNotFound(e)) throw e;
      await this.#o.client.create(resourcePath(CONFIGMAPS), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data: { [key]: text } });
    }
  }
}
