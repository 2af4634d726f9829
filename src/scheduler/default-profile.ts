// The plugins convergit's scheduler knows, by name, and the profile it runs unless told otherwise.
import type { Plugin, ProfileConfig } from './framework.ts';
import { buildProfile } from './framework.ts';
import { interPodAffinity } from './plugins/inter-pod-affinity.ts';
import { leastAllocated } from './plugins/least-allocated.ts';
import { nodeAffinity } from './plugins/node-affinity.ts';
import { nodeReady } from './plugins/node-ready.ts';
import { nodeResourcesFit } from './plugins/node-resources-fit.ts';
import { nodeSelector } from './plugins/node-selector.ts';
import { nodeUnschedulable } from './plugins/node-unschedulable.ts';
import { podTopologySpread } from './plugins/pod-topology-spread.ts';
import { selectorSpread } from './plugins/selector-spread.ts';
import { volumeBinding } from './plugins/volume-binding.ts';
import { taintToleration } from './plugins/taint-toleration.ts';

export const registry: Record<string, Plugin> = Object.fromEntries(
  [nodeUnschedulable, nodeReady, nodeSelector, nodeAffinity, taintToleration, nodeResourcesFit, podTopologySpread,
    interPodAffinity, volumeBinding, leastAllocated, selectorSpread].map((p) => [p.name, p]),
);

/**
 * Filters in kube-scheduler's order (cheap node checks, then resources, then the checks that look at other pods);
 * score weights as its default profile: TaintToleration 3, NodeAffinity, PodTopologySpread and InterPodAffinity 2,
 * resources 1. SelectorSpread stands for PodTopologySpread's system-default spreading of pods without constraints.
 */
export const defaultProfileConfig: ProfileConfig = {
  filter: ['NodeUnschedulable', 'NodeReady', 'TaintToleration', 'NodeAffinity', 'NodeResourcesFit', 'PodTopologySpread', 'InterPodAffinity', 'VolumeBinding'],
  score: [
    { name: 'TaintToleration', weight: 3 },
    { name: 'NodeAffinity', weight: 2 },
    { name: 'PodTopologySpread', weight: 2 },
    { name: 'InterPodAffinity', weight: 2 },
    { name: 'NodeResourcesLeastAllocated', weight: 1 },
    { name: 'SelectorSpread', weight: 2 },
  ],
};

export const defaultProfile = () => buildProfile(registry, defaultProfileConfig);
