// The hub every component talks through. Async so that a remote backend (etcd, another process) can implement it.
import type { KubeObject, ObjectRef } from '../model/object.ts';
import type { Requirement } from '../model/selector.ts';
import type { DeleteOptions } from '../model/graceful.ts';

export type { DeleteOptions };

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';
export interface WatchEvent { type: WatchEventType; object: KubeObject }

export interface ListOptions {
  /** Omitted: all namespaces. */
  namespace?: string;
  labelSelector?: Requirement[];
  /**
   * The store's own objects rather than copies, for a reader that only reads (the API serialising a big list,
   * informers): no copy of every object per list or per watcher and event. Never mutate them: the store replaces
   * an object on each change and never changes one in place, so a shared object stays as it was read.
   */
  shared?: boolean;
}

export interface WatchOptions extends ListOptions {
  kind?: string;
  /** Replay changes after this resourceVersion; omitted: only changes from now on. */
  resourceVersion?: string;
  /** Further filtering (the API's field selectors); entering or leaving it is seen as ADDED or DELETED, as with labels. */
  match?: (o: KubeObject) => boolean;
  /**
   * Only objects whose spec.nodeName is this (a node's own pods), as kube-apiserver's watch cache indexes pod
   * watches by node for kubelets: a change is offered to the watchers of its node only, so a thousand nodes'
   * watches do not each look at every change. Entering or leaving is seen as ADDED or DELETED.
   */
  nodeName?: string;
}

/** `shared`: the write returns the stored object itself rather than a copy (never mutate it). */
export interface WriteOptions { shared?: boolean }
/**
 * `status`: the status is replaced in the same write (one version, one event), as kube-apiserver's pods/binding
 * sets spec.nodeName and the PodScheduled condition together.
 */
export interface UpdateOptions extends WriteOptions { status?: unknown }

/**
 * A pending pod's binding to a node, as kube-apiserver's pods/binding: `spec.nodeName` and the pod's new `status`
 * (PodScheduled) in one version and one event. `uid` and `resourceVersion`, when given, must match the stored pod.
 */
export interface PodBinding { namespace: string; name: string; uid?: string; resourceVersion?: string; nodeName: string; status: unknown }

export class StoreError extends Error {
  constructor(readonly reason: 'NotFound' | 'AlreadyExists' | 'Conflict' | 'Gone' | 'Invalid', message: string) {
    super(message);
  }
}

export interface Store {
  /** A copy, or with `shared` the stored object itself (never mutate it). */
  get(kind: string, namespace: string | undefined, name: string, opts?: { shared?: boolean }): Promise<KubeObject | undefined>;
  list(kind: string, opts?: ListOptions): Promise<KubeObject[]>;
  /** The store-wide counter, as a string like Kubernetes'. */
  resourceVersion(): Promise<string>;
  /**
   * Sets uid, resourceVersion, generation 1, creationTimestamp. Throws AlreadyExists. Returns a copy, or with
   * `shared` the stored object itself (never mutate it): a writer that does not keep the result need not pay
   * for a copy of it (as on create, update and updateStatus).
   */
  create(obj: KubeObject, opts?: WriteOptions): Promise<KubeObject>;
  /**
   * Replaces the object's body (everything but status and server-set metadata). Bumps generation when the
   * body other than metadata changed. When obj.metadata.resourceVersion is set it must match (else Conflict).
   */
  update(obj: KubeObject, opts?: UpdateOptions): Promise<KubeObject>;
  /**
   * Binds pods (the scheduler's batch of one turn): each binding is its own atomic write, applied in order, and fails
   * alone: NotFound, or Conflict when its uid or resourceVersion differs, or the pod is already bound or being deleted
   * (kube-apiserver's assignPod). Nothing else of the pod is compared or copied, so a binding costs its status, not the
   * pod. Returns, in order, the stored pod (shared: never mutate it) or the error.
   */
  bindPods(bindings: PodBinding[]): Promise<(KubeObject | StoreError)[]>;
  /** Replaces the status (a copy of `status`); a status the same as the stored one writes nothing and returns the object. */
  updateStatus(kind: string, namespace: string | undefined, name: string, status: unknown, opts?: WriteOptions): Promise<KubeObject>;
  /**
   * Returns the deleted object, or undefined when there was none. A Pod bound to a node is only marked (its
   * deletionTimestamp set, a MODIFIED event) and returned marked; the node deletes it with gracePeriodSeconds 0
   * once its containers have stopped. See model/graceful.ts.
   */
  delete(kind: string, namespace: string | undefined, name: string, opts?: DeleteOptions): Promise<KubeObject | undefined>;
  /** Calls handler for each change; throws Gone when resourceVersion is older than the kept history. Returns a stop function. */
  watch(opts: WatchOptions, handler: (e: WatchEvent) => void): Promise<() => void>;
  /** Records a Kubernetes Event, folding repeats (same object, reason, message) into a count. Bounded history. */
  recordEvent(involved: ObjectRef, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void>;
  /** Small records that are not Kubernetes objects (sync history, inventory), persisted with the objects. */
  /** A JSON copy (keys set to undefined dropped), or with `shared` the stored value itself (never mutate it). */
  getMeta<T>(key: string, opts?: { shared?: boolean }): Promise<T | undefined>;
  /**
   * `persist: false`: kept in memory only (what can be recomputed after a restart, like /status): stored as given,
   * neither copied nor compared nor written; the caller never mutates it afterwards.
   */
  setMeta(key: string, value: unknown, opts?: { persist?: boolean }): Promise<void>;
  /**
   * Sets entries of a meta record that is a map (creating it), `undefined` removing one: persisted as those
   * entries, not the whole map, so a big map (the sync inventory) costs what changed.
   */
  patchMeta(key: string, entries: Record<string, unknown>): Promise<void>;
  /** Writes pending changes now. */
  flush(): Promise<void>;
  /** Flushes and releases the store. */
  close(): Promise<void>;
}
