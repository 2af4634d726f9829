// Reviewer warnings about a desired state: things Kubernetes accepts but a reviewer wants to see before merging
// (a Service that selects nothing, configuration that is not there, containers the scheduler cannot account for,
// images that can change without a commit). Each points at the field concerned. Pure.
import type { KubeObject } from '../model/object.ts';
import { isPodActive } from '../model/pod.ts';
import { matchesSelector } from '../model/selector.ts';
import type { DesiredObject } from '../manifests/types.ts';
import type { LiveState } from './live-state.ts';
import { stayingLive } from './live-index.ts';
import { missingConfigWarnings } from './missing-config.ts';
import { containersOf, hasPodTemplate, podTemplateOf } from './pod-templates.ts';
import type { ReviewWarning } from './report.ts';
import { byPlace, warningAt } from './warning-at.ts';

export function reviewWarnings(desired: DesiredObject[], live: LiveState): ReviewWarning[] {
  return [...stateWarnings(desired, live), ...desired.flatMap(objectWarnings)].sort(byPlace);
}

/** The warnings that depend on other objects too (selectors, configuration), unsorted. */
export function stateWarnings(desired: DesiredObject[], live: LiveState): ReviewWarning[] {
  const staying = stayingLive(desired.map((d) => d.object), live);
  return [...selectorWarnings(desired, staying), ...missingConfigWarnings(desired, staying)];
}

/** The labels of the pods each workload makes, with its namespace: desired ones and live ones that stay. */
function podLabels(desired: DesiredObject[], staying: KubeObject[]): { namespace: string; labels: Record<string, string> }[] {
  const live = staying.filter((o) => o.kind !== 'Pod' || isPodActive(o));
  return [...desired.map((d) => d.object), ...live]
    .filter((o) => hasPodTemplate(o.kind))
    .map((o) => ({ namespace: o.metadata.namespace ?? 'default', labels: podTemplateOf(o)?.metadata?.labels ?? {} }));
}

/**
 * Pod labels by namespace and one label `key=value`: a Service's selector is tried only on the pods that carry one of
 * its pairs. Trying every Service on every pod template was Services × workloads (11 million matches, a third of
 * `plan`'s CPU, at 10,000 objects).
 */
function podsByLabel(pods: { namespace: string; labels: Record<string, string> }[]): Map<string, Record<string, string>[]> {
  const index = new Map<string, Record<string, string>[]>();
  for (const p of pods) {
    for (const [k, v] of Object.entries(p.labels)) {
      const key = JSON.stringify([p.namespace, k, v]);
      (index.get(key) ?? index.set(key, []).get(key)!).push(p.labels);
    }
  }
  return index;
}

/** SelectorMatchesNoPods: a Service whose selector no pod template has, so it would have no endpoints. */
function selectorWarnings(desired: DesiredObject[], staying: KubeObject[]): ReviewWarning[] {
  const pods = podsByLabel(podLabels(desired, staying));
  return desired.flatMap((d) => {
    const sel: Record<string, string> | undefined = d.object.kind === 'Service' ? d.object.spec?.selector : undefined;
    if (!sel || !Object.keys(sel).length) return []; // no selector: endpoints are managed by hand
    const ns = d.object.metadata.namespace ?? 'default';
    // Every pair must match, so a matching pod is among those carrying the first one.
    const [k, v] = Object.entries(sel)[0];
    const matches = (pods.get(JSON.stringify([ns, k, v])) ?? []).some((labels) => matchesSelector({ matchLabels: sel }, labels));
    if (matches) return [];
    const text = Object.entries(sel).map(([k, v]) => `${k}=${v}`).join(',');
    return [warningAt(d, 'SelectorMatchesNoPods', ['spec', 'selector'],
      `selector ${text} matches no pod template in namespace ${ns} (Deployment, ReplicaSet or Pod, in git or live): the Service would have no endpoints`)];
  });
}

/** An image that names no tag (so `latest`) or the `latest` tag; digests and git images are pinned. */
export function floatingTag(image: string): 'none' | 'latest' | undefined {
  if (image.startsWith('git:') || image.includes('@')) return undefined;
  const last = image.slice(image.lastIndexOf('/') + 1); // a registry's `host:port/` is not a tag
  const colon = last.lastIndexOf(':');
  if (colon < 0) return 'none';
  return last.slice(colon + 1) === 'latest' ? 'latest' : undefined;
}

/**
 * The warnings about one object alone, whatever else the state holds (NoResourceRequests and LatestImage, one per
 * container): the same object always has the same ones.
 */
export function objectWarnings(d: DesiredObject): ReviewWarning[] {
  const out: ReviewWarning[] = [];
  for (const { container: c, path } of containersOf(d.object)) {
    const r = { ...c.resources?.limits, ...c.resources?.requests }; // a limit stands in for a missing request
    if (r.cpu === undefined && r.memory === undefined) {
      out.push(warningAt(d, 'NoResourceRequests', c.resources ? [...path, 'resources'] : path,
        `container "${c.name}" requests no cpu or memory: the scheduler counts it as zero and may place it on a node that is already full (set resources.requests)`));
    }
    const tag = typeof c.image === 'string' ? floatingTag(c.image) : undefined;
    if (tag) {
      const what = tag === 'none' ? `has no tag, so it means ${c.image}:latest` : 'uses the latest tag';
      out.push(warningAt(d, 'LatestImage', [...path, 'image'],
        `image "${c.image}" ${what}: what runs can change without a commit; pin a version or a digest`));
    }
  }
  return out;
}
