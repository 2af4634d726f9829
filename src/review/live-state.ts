// The state a plan is compared with: live objects (from a running server or its data folder) or a base revision.
import type { KubeObject } from '../model/object.ts';

export interface LiveState {
  /** The objects: the kinds git may own plus ReplicaSets, Pods and Nodes when they are known. */
  objects: KubeObject[];
  /** Keys (objectKey) git applied before: only these may be pruned. */
  inventory: string[];
  /** False for a base revision: there are no nodes, pods or ReplicaSets to look at. */
  nodesKnown: boolean;
}
