// The informer index every owning controller shares (ReplicaSet, StatefulSet, DaemonSet over pods; Deployment over
// ReplicaSets): objects by their controller's uid, and those without a controller under `orphan/<namespace>`, as
// adoption candidates. One name and
// one function, so the shared Pod informer holds one index, not one per controller.
import type { KubeObject } from '../model/object.ts';
import { controllerOf } from '../model/pod.ts';

export const CONTROLLER_INDEX = 'controller';

/** The key of the objects of `namespace` that no controller owns. */
export const orphansOf = (namespace: string | undefined) => `orphan/${namespace ?? 'default'}`;

export const controllerIndex = (o: KubeObject) => [controllerOf(o)?.uid ?? orphansOf(o.metadata.namespace)];
