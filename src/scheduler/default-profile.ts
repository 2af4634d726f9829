// The plugins convergit's scheduler knows, by name, and the profile it runs unless told otherwise.
import type { Plugin, ProfileConfig } from './framework.ts';
import { buildProfile } from './framework.ts';
import { leastAllocated } from './plugins/least-allocated.ts';
import { nodeReady } from './plugins/node-ready.ts';
import { nodeResourcesFit } from './plugins/node-resources-fit.ts';
import { nodeSelector } from './plugins/node-selector.ts';
import { nodeUnschedulable } from './plugins/node-unschedulable.ts';
import { selectorSpread } from './plugins/selector-spread.ts';
import { volumeBinding } from './plugins/volume-binding.ts';

export const registry: Record<string, Plugin> = Object.fromEntries(
  [nodeUnschedulable, nodeReady, nodeSelector, nodeResourcesFit, volumeBinding, leastAllocated, selectorSpread].map((p) => [p.name, p]),
);

/** Filters in kube-scheduler's order (cheap node checks before resources); spreading weighs 2 as PodTopologySpread's default. */
export const defaultProfileConfig: ProfileConfig = {
  filter: ['NodeUnschedulable', 'NodeReady', 'NodeSelector', 'NodeResourcesFit', 'VolumeBinding'],
  score: [
    { name: 'NodeResourcesLeastAllocated', weight: 1 },
    { name: 'SelectorSpread', weight: 2 },
  ],
};

export const defaultProfile = () => buildProfile(registry, defaultProfileConfig);
