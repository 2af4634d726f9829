// The health checks, registered by kind, and assessHealth: one object's health, never thrown, never guessed.
import type { KubeObject } from '../model/object.ts';
import { cronJobHealth } from './cronjob.ts';
import { daemonSetHealth } from './daemonset.ts';
import { podDisruptionBudgetHealth } from './poddisruptionbudget.ts';
import { deploymentHealth } from './deployment.ts';
import { existsHealth } from './exists.ts';
import { keptHealth } from './kept.ts';
import { customResourceHealth } from './custom.ts';
import { crdHealth } from './crd.ts';
import { jobHealth } from './job.ts';
import { ingressHealth } from './ingress.ts';
import { hpaHealth } from './hpa.ts';
import { namespaceHealth } from './namespace.ts';
import { nodeHealth } from './node.ts';
import { podHealth } from './pod.ts';
import { claimHealth, volumeHealth } from './persistentvolume.ts';
import { replicaSetHealth } from './replicaset.ts';
import { serviceHealth } from './service.ts';
import { statefulSetHealth } from './statefulset.ts';
import { healthContext, type HealthCheck, type HealthContext, type ObjectHealth } from './types.ts';

export const HEALTH_CHECKS: Readonly<Record<string, HealthCheck>> = {
  Deployment: deploymentHealth,
  ReplicaSet: replicaSetHealth,
  ReplicationController: replicaSetHealth,
  Pod: podHealth,
  Service: serviceHealth,
  Node: nodeHealth,
  Namespace: namespaceHealth,
  ConfigMap: existsHealth,
  Secret: existsHealth,
  Endpoints: existsHealth,
  EndpointSlice: existsHealth,
  CustomResourceDefinition: crdHealth,
  Job: jobHealth,
  CronJob: cronJobHealth,
  Ingress: ingressHealth,
  IngressClass: existsHealth,
  PersistentVolumeClaim: claimHealth,
  PersistentVolume: volumeHealth,
  StorageClass: existsHealth,
  StatefulSet: statefulSetHealth,
  DaemonSet: daemonSetHealth,
  PodDisruptionBudget: podDisruptionBudgetHealth,
  HorizontalPodAutoscaler: hpaHealth,
};

/**
 * The health of `obj` among the live objects of `ctx`. A kind without a check is Unknown (never assumed Healthy);
 * an object being deleted is Progressing, as in Argo CD; a check that throws gives Unknown with the error.
 */
export function assessHealth(obj: KubeObject, ctx: HealthContext = healthContext([obj])): ObjectHealth {
  const check = Object.hasOwn(HEALTH_CHECKS, obj.kind) ? HEALTH_CHECKS[obj.kind] : undefined;
  if (!check) return customResourceHealth(obj) ?? keptHealth(obj) ?? { status: 'Unknown', message: `no health check for kind ${obj.kind}` };
  if (obj.metadata.deletionTimestamp) return { status: 'Progressing', message: `${obj.kind} ${obj.metadata.name} is terminating` };
  try {
    return check(obj, ctx);
  } catch (e) {
    return { status: 'Unknown', message: `${obj.kind} ${obj.metadata.name}: health check failed: ${e instanceof Error ? e.message : String(e)}` };
  }
}
