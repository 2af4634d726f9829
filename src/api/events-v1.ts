// An Event as events.k8s.io/v1 serves it: the same stored Event (kube-apiserver keeps one storage for both groups),
// its fields under their events.k8s.io names (pkg/apis/events/v1/conversion.go): involvedObject is `regarding`,
// message `note`, the legacy source and counters `deprecated*`.
import type { KubeObject } from '../model/object.ts';

/** [core v1 name, events.k8s.io/v1 name] of every field but the metadata. */
const FIELDS: [string, string][] = [
  ['eventTime', 'eventTime'], ['series', 'series'], ['reportingComponent', 'reportingController'], ['reportingInstance', 'reportingInstance'],
  ['action', 'action'], ['reason', 'reason'], ['involvedObject', 'regarding'], ['related', 'related'], ['message', 'note'], ['type', 'type'],
  ['source', 'deprecatedSource'], ['firstTimestamp', 'deprecatedFirstTimestamp'], ['lastTimestamp', 'deprecatedLastTimestamp'], ['count', 'deprecatedCount'],
];

function renamed(ev: KubeObject, apiVersion: string, from: 0 | 1): KubeObject & Record<string, any> {
  const e = ev as Record<string, any>;
  const out: Record<string, any> = { apiVersion, kind: 'Event', metadata: ev.metadata };
  for (const pair of FIELDS) if (e[pair[from]] !== undefined && e[pair[from]] !== '') out[pair[1 - from]] = e[pair[from]];
  return out as KubeObject & Record<string, any>;
}

export function eventsV1Of(ev: KubeObject): KubeObject {
  // A legacy event has no eventTime: kube-apiserver serves it as null.
  const out = renamed(ev, 'events.k8s.io/v1', 0);
  return { ...out, eventTime: out.eventTime ?? null };
}

/** The core v1 Event an events.k8s.io/v1 one was served from (printEvent reads the core fields). */
export function asCoreEvent(ev: KubeObject): KubeObject {
  if (ev.apiVersion !== 'events.k8s.io/v1') return ev;
  const core = renamed(ev, 'v1', 1);
  if (core.eventTime === null) delete core.eventTime;
  return core;
}
