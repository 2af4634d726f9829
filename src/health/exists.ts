// Health of kinds that have no status to wait for (ConfigMap, Secret, Endpoints, EndpointSlice): present is Healthy.
import type { KubeObject } from '../model/object.ts';
import type { ObjectHealth } from './types.ts';

export function existsHealth(obj: KubeObject): ObjectHealth {
  return { status: 'Healthy', message: `${obj.kind} ${obj.metadata.name} exists` };
}
