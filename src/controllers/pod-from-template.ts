// A ReplicaSet's pod, as kube-controller-manager builds it: the template's labels, annotations and spec, a
// generated name, and the ReplicaSet as controller owner.
import { randomInt } from 'node:crypto';
import type { KubeObject, ObjectMeta } from '../model/object.ts';
import { ownerRefTo } from '../model/pod.ts';

// The API server's generateName alphabet: no vowels (no accidental words) and no look-alike characters.
const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
// Names are at most 63 characters; the base is cut to leave room for the 5 random ones.
const MAX_BASE = 63 - 5;

/** `<base><5 random characters>`, as metadata.generateName produces. */
export function generateName(base: string): string {
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += ALPHABET[randomInt(ALPHABET.length)];
  return base.slice(0, MAX_BASE) + suffix;
}

/**
 * The pod `name` that `rs` owns, built from its template (which the manifests already defaulted), for the store to
 * create: its spec is the ReplicaSet's own object (read only).
 */
export function podFromTemplate(rs: KubeObject, name: string): KubeObject {
  const template = rs.spec?.template ?? {};
  const metadata: ObjectMeta = { name, generateName: `${rs.metadata.name}-`, namespace: rs.metadata.namespace, ownerReferences: [ownerRefTo(rs)] };
  if (template.metadata?.labels) metadata.labels = { ...template.metadata.labels };
  if (template.metadata?.annotations) metadata.annotations = { ...template.metadata.annotations };
  // The template's spec itself, not a copy: the pod goes to the store, which keeps a copy of its own.
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec: template.spec ?? {} };
}
