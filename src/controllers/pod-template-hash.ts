// The pod-template-hash: how a Deployment names the ReplicaSet of one pod template, and recognises it again later
// (which is what makes a rollback to an earlier template reuse that template's ReplicaSet).
import { canonical } from '../plan/canonical.ts';
import { fnv32a } from '../model/hash.ts';

export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';

// Kubernetes' rand.SafeEncodeString alphabet: no vowels (no words), no look-alikes (0/o, 1/l, 3/e).
const ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';

/** Kubernetes' SafeEncodeString: each character of `s` mapped into the safe alphabet. */
export const safeEncode = (s: string) => [...s].map((c) => ALPHANUMS[c.codePointAt(0)! % ALPHANUMS.length]).join('');

type Template = { metadata?: { labels?: Record<string, string>; [k: string]: unknown }; [k: string]: unknown } | undefined;

/** The template without the pod-template-hash label (and without a labels map left empty by removing it). */
export function withoutHash(template: Template): Template {
  if (!template?.metadata?.labels || !(POD_TEMPLATE_HASH_LABEL in template.metadata.labels)) return template;
  const { [POD_TEMPLATE_HASH_LABEL]: _hash, ...labels } = template.metadata.labels;
  const metadata = { ...template.metadata, labels };
  if (!Object.keys(labels).length) delete (metadata as { labels?: unknown }).labels;
  return { ...template, metadata };
}

/** A stable hash of a pod template: the same content gives the same hash whatever its key order, across restarts. */
export function podTemplateHash(template: Template): string {
  return safeEncode(String(fnv32a(canonical(normalise(withoutHash(template))))));
}

/** Kubernetes' EqualIgnoreHash: the two templates are the same once the pod-template-hash label is ignored. */
export function equalIgnoreHash(a: Template, b: Template): boolean {
  return canonical(normalise(withoutHash(a))) === canonical(normalise(withoutHash(b)));
}

/** A copy of `template` whose labels carry `hash`. */
export function templateWithHash(template: Template, hash: string): NonNullable<Template> {
  const t = structuredClone(template ?? {});
  t.metadata = { ...t.metadata, labels: { ...t.metadata?.labels, [POD_TEMPLATE_HASH_LABEL]: hash } };
  return t;
}

// As Kubernetes' semantic equality, an empty map or list is the same as a missing one.
function normalise(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(normalise);
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    const n = normalise(x);
    if (n === undefined) continue;
    if (typeof n === 'object' && n !== null && !Array.isArray(n) && !Object.keys(n).length) continue;
    if (Array.isArray(n) && !n.length) continue;
    out[k] = n;
  }
  return out;
}
