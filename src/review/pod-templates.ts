// The pod template of a workload: a Deployment's or ReplicaSet's spec.template, or a bare Pod's own metadata and
// spec, with where it sits in the object (for positions).
import type { KubeObject } from '../model/object.ts';
import type { Path } from '../manifests/paths.ts';

export interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: any;
}

/** Where the template sits in each kind that has one. */
const TEMPLATE_PATH: Record<string, Path> = {
  Deployment: ['spec', 'template'],
  ReplicaSet: ['spec', 'template'],
  Job: ['spec', 'template'],
  Pod: [],
};

export const hasPodTemplate = (kind: string) => kind in TEMPLATE_PATH;

/** The path of the pod spec in an object of `kind` (`spec.template.spec`, or `spec` for a Pod). */
export const podSpecPath = (kind: string): Path => [...(TEMPLATE_PATH[kind] ?? []), 'spec'];

export function podTemplateOf(o: KubeObject): PodTemplate | undefined {
  if (o.kind === 'Pod') return { metadata: { labels: o.metadata.labels, annotations: o.metadata.annotations }, spec: o.spec };
  if (o.kind === 'Deployment' || o.kind === 'ReplicaSet' || o.kind === 'Job') return o.spec?.template;
  return undefined;
}

/** Each container of the template with its path in the object (init containers too, should a schema allow them). */
export function containersOf(o: KubeObject): { container: any; path: Path }[] {
  const spec = podTemplateOf(o)?.spec;
  const at = podSpecPath(o.kind);
  return ['initContainers', 'containers'].flatMap((list) =>
    ((spec?.[list] ?? []) as any[]).map((container, i) => ({ container, path: [...at, list, i] })));
}
