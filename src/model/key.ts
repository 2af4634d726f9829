import type { KubeObject } from './object.ts';
import { isNamespaced } from './kinds.ts';

/**
 * `apiVersion/kind/namespace/name`: how desired and live objects are paired. Cluster-scoped objects have an empty
 * namespace. A rope, as keyOf's: what keeps one for as long as the object lives interns it (intern.ts).
 */
export function objectKey(o: Pick<KubeObject, 'apiVersion' | 'kind'> & { metadata: { name: string; namespace?: string } }): string {
  const ns = isNamespaced(o.kind) ? (o.metadata.namespace ?? 'default') : '';
  return `${o.apiVersion}/${o.kind}/${ns}/${o.metadata.name}`;
}

/** `kind namespace/name` for messages. */
export function displayName(o: { kind: string; metadata: { name: string; namespace?: string } }): string {
  return o.metadata.namespace ? `${o.kind} ${o.metadata.namespace}/${o.metadata.name}` : `${o.kind} ${o.metadata.name}`;
}

/** The inverse of objectKey (apiVersion may itself contain a slash, names and kinds never do). */
export function parseKey(key: string): { apiVersion: string; kind: string; namespace?: string; name: string } {
  const parts = key.split('/');
  const name = parts.pop()!, namespace = parts.pop()!, kind = parts.pop()!;
  return { apiVersion: parts.join('/'), kind, namespace: namespace || undefined, name };
}

/** `namespace/name`: how caches and work queues name a stored object (`/name` for a cluster-scoped one). */
export const keyOf = (o: { metadata: { namespace?: string; name: string } }) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

export function splitKey(key: string): { namespace: string; name: string } {
  const i = key.indexOf('/');
  return { namespace: key.slice(0, i), name: key.slice(i + 1) };
}
