// Runs the controllers of kube-controller-manager that convergit has, over one shared informer per kind.
import { startHeartbeat } from '../model/component-health.ts';
import type { Store } from '../store/store.ts';
import { Informer } from '../store/informer.ts';
import { runController, type ControllerContext, type ControllerSpec, type RunOptions, type RunningController } from './controller.ts';
import { replicaSetController, type ReplicaSetControllerOptions } from './replicaset.ts';
import { endpointsController, type EndpointsControllerOptions } from './endpoints.ts';
import { endpointSliceReflection } from './endpoint-slice-reflection.ts';
import { garbageCollector } from './garbage-collector.ts';
import { crdController } from './crd.ts';
import { deploymentController, type DeploymentControllerOptions } from './deployment.ts';
import { jobController, type JobControllerOptions } from './job.ts';
import { cronJobController, type CronJobControllerOptions } from './cronjob.ts';
import { ttlAfterFinishedController } from './ttl-after-finished.ts';
import { persistentVolumeBinder } from './persistentvolume-binder.ts';
import { localPathProvisioner, type LocalPathOptions } from './local-path-provisioner.ts';
import { statefulSetController, type StatefulSetControllerOptions } from './statefulset.ts';
import { daemonSetController } from './daemonset.ts';
import { nodeLifecycleController, type NodeLifecycleOptions } from './node-lifecycle.ts';
import { disruptionController } from './disruption.ts';
import { hpaController, type HpaControllerOptions } from './hpa.ts';

export interface ControllersOptions {
  store: Store;
  now?: () => Date;
  log?: (msg: string) => void;
  deployment?: DeploymentControllerOptions;
  replicaset?: ReplicaSetControllerOptions;
  endpoints?: EndpointsControllerOptions;
  job?: JobControllerOptions;
  cronjob?: CronJobControllerOptions;
  /** The built-in local-path provisioner; without it, claims bind only to existing volumes. */
  localPath?: LocalPathOptions;
  statefulset?: StatefulSetControllerOptions;
  nodeLifecycle?: NodeLifecycleOptions;
  hpa?: HpaControllerOptions;
  /** Work queue backoff and workers per controller. */
  queue?: RunOptions;
  /** Only these controllers (by name: deployment, replicaset, endpoints, garbage-collector, job, cronjob, ttl-after-finished, persistentvolume-binder, local-path-provisioner, statefulset, daemonset, node-lifecycle, disruption, horizontal-pod-autoscaler); for tests. */
  only?: string[];
}

export interface RunningControllers {
  /** Names of the controllers running. */
  readonly names: string[];
  /** Lets syncs in flight finish, then stops the informers. Safe to call twice. */
  stop(): Promise<void>;
}

export async function startControllers(opts: ControllersOptions): Promise<RunningControllers> {
  const all: ControllerSpec[] = [
    deploymentController(opts.deployment),
    replicaSetController(opts.replicaset),
    replicaSetController(opts.replicaset, 'ReplicationController'),
    endpointsController(opts.endpoints),
    endpointSliceReflection(),
    crdController(),
    garbageCollector(),
    jobController(opts.job),
    cronJobController(opts.cronjob),
    ttlAfterFinishedController(),
    persistentVolumeBinder(),
    ...(opts.localPath ? [localPathProvisioner(opts.localPath)] : []),
    statefulSetController(opts.statefulset),
    daemonSetController(),
    nodeLifecycleController(opts.nodeLifecycle),
    disruptionController(),
    hpaController(opts.hpa),
  ];
  const unknown = (opts.only ?? []).filter((n) => !all.some((s) => s.name === n));
  if (unknown.length) throw new Error(`unknown controllers: ${unknown.join(', ')} (known: ${all.map((s) => s.name).join(', ')})`);
  const specs = opts.only ? all.filter((s) => opts.only!.includes(s.name)) : all;

  // One informer per kind, shared by every controller that reads it, all synced before the first sync.
  const informers = new Map<string, Informer>();
  for (const kind of specs.flatMap((s) => s.kinds)) if (!informers.has(kind)) informers.set(kind, new Informer(opts.store, kind));
  try {
    await Promise.all([...informers.values()].map((i) => i.start()));
  } catch (err) {
    for (const i of informers.values()) i.stop();
    throw err;
  }

  const ctx: ControllerContext = {
    store: opts.store,
    informer(kind) {
      const i = informers.get(kind);
      if (!i) throw new Error(`no informer for ${kind}: add it to the controller's kinds`);
      return i;
    },
    now: opts.now ?? (() => new Date()),
    log: opts.log ?? ((msg) => console.error(`controllers: ${msg}`)),
  };
  const running: RunningController[] = specs.map((s) => runController(s, ctx, opts.queue));
  // kube-controller-manager's /healthz: its informers synced, then one check per controller (its workers alive).
  const heartbeat = startHeartbeat(opts.store, 'controller-manager', () => ({
    'informer-sync': [...informers.values()].every((i) => i.hasSynced) ? null : 'informers not synced',
    ...Object.fromEntries(specs.map((s, i) => [s.name, running[i].running ? null : 'its workers have stopped'])),
  }));

  let stopping: Promise<void> | undefined;
  return {
    names: specs.map((s) => s.name),
    stop() {
      stopping ??= (async () => {
        await Promise.all(running.map((r) => r.stop()));
        await heartbeat.stop();
        for (const i of informers.values()) i.stop();
      })();
      return stopping;
    },
  };
}
