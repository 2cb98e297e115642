/**
 * The node inventory of the NIC janitor, kept in ConfigMap kube-system/hostnic-controller-state (key
 * `nodes.json`): a node deleted while no controller ran is still known as this cluster's when the
 * controller comes back, so its leftover NICs can be found.
 */
import type { CoreV1Api, V1Node } from '@kubernetes/client-node';
import { NodeInventory } from '../cleanup/index.ts';
import type { InventoryView } from '../cleanup/index.ts';
import type { Fence } from '../fence.ts';
import type { Logger } from '@hostnic/runtime';
import { errorText } from '@hostnic/runtime';
import { isNotFound } from '@hostnic/runtime/kube';

export const STATE_CONFIGMAP = { namespace: 'kube-system', name: 'hostnic-controller-state', key: 'nodes.json' } as const;

export interface NodeInventoryStoreOptions {
  readonly core: CoreV1Api;
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
      const cm = await this.#o.core.readNamespacedConfigMap({ namespace: STATE_CONFIGMAP.namespace, name: STATE_CONFIGMAP.name });
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
  async observe(nodes: readonly V1Node[]): Promise<void> {
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
      const cm = await this.#o.core.readNamespacedConfigMap({ namespace, name });
      await this.#o.core.replaceNamespacedConfigMap({ namespace, name, body: { ...cm, data: { ...cm.data, [key]: text } } });
    } catch (e) {
      if (!isNotFound(e)) throw e;
      await this.#o.core.createNamespacedConfigMap({ namespace, body: { metadata: { name, namespace }, data: { [key]: text } } });
    }
  }
}
