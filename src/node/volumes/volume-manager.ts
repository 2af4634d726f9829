// The volumes of one pod on the node, for its pod worker: set up before the containers start (FailedMount events
// while they cannot be), the mounts of each container, configMap/secret/downwardAPI files kept current while the
// pod runs (as the kubelet's periodic sync does), and removal with the pod.
import type { KubeObject } from '../../model/object.ts';
import type { Store } from '../../store/store.ts';
import { LaunchError } from '../container.machine.ts';
import type { Mount } from '../runtime/runtime.ts';
import { containerMounts, mountsOnHost, refreshVolumes, setUpVolumes, tearDownVolumes, VolumeError, type ReadyVolume, type VolumeContext } from './pod-volumes.ts';

export interface VolumeManagerDeps {
  store: Store;
  dataDir: string;
  hostIP: string;
  allocatable: { cpu: number; memory: number };
  volumeSyncMs?: number;
}

type EventFn = (type: 'Normal' | 'Warning', reason: string, message: string) => void;

const UNBOUND_WAIT_MS = 15_000;

const errText = (e: unknown) => (e instanceof Error ? e.message : String(e));

export class PodVolumeManager {
  private ready?: Map<string, ReadyVolume>;
  private ctx?: VolumeContext;
  private timer?: NodeJS.Timeout;
  private syncing = false;
  private lastProblem?: string;
  private stopped = false;

  constructor(private readonly pod: () => KubeObject, private readonly deps: VolumeManagerDeps, private readonly event: EventFn) {}

  /** Sets every volume up; throws (after a FailedMount event) while one cannot be. */
  async setUp(podIP: string): Promise<void> {
    const pod = this.pod();
    if (!pod.spec?.volumes?.length) return;
    this.ctx = { store: this.deps.store, dataDir: this.deps.dataDir, podIP, hostIP: this.deps.hostIP, allocatable: this.deps.allocatable };
    // A claim the scheduler just named this node for is being provisioned and bound: worth a short wait in place.
    const deadline = Date.now() + UNBOUND_WAIT_MS;
    for (;;) {
      try {
        this.ready = await setUpVolumes(this.pod(), this.ctx);
        break;
      } catch (e) {
        if (e instanceof VolumeError && e.message.includes('is not bound') && Date.now() < deadline && !this.stopped) {
          await new Promise((r) => setTimeout(r, 200));
          continue;
        }
        if (e instanceof VolumeError) this.event('Warning', 'FailedMount', e.message);
        throw e;
      }
    }
    if ([...this.ready.values()].some((v) => v.projected) && !this.timer && !this.stopped) {
      this.timer = setInterval(() => void this.sync(), this.deps.volumeSyncMs ?? 1000);
      this.timer.unref();
    }
  }

  /** The container's mounts of the pod's volumes; a bad subPath is the container's CreateContainerConfigError. */
  async mountsOf(container: any): Promise<Mount[]> {
    if (!container.volumeMounts?.length) return [];
    try {
      return await containerMounts(container, this.ready ?? new Map());
    } catch (e) {
      throw new LaunchError('CreateContainerConfigError', errText(e));
    }
  }

  private async sync(): Promise<void> {
    if (this.syncing || !this.ctx || this.stopped) return;
    this.syncing = true;
    try {
      await refreshVolumes(this.pod(), this.ctx);
      this.lastProblem = undefined;
    } catch (e) {
      // Kept as it was (the kubelet keeps the last good files); told once per distinct problem.
      const message = `MountVolume.SetUp failed: ${errText(e)}`;
      if (message !== this.lastProblem) this.event('Warning', 'FailedMount', message);
      this.lastProblem = message;
    } finally {
      this.syncing = false;
    }
  }

  stopSync(): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The pod is gone: its volume folders go (a claim's data lives elsewhere and stays). */
  async tearDown(): Promise<void> {
    this.stopSync();
    while (this.syncing) await new Promise((r) => setTimeout(r, 5));
    await tearDownVolumes(this.deps.dataDir, this.pod().metadata.uid!, { mounted: mountsOnHost(this.pod()) }).catch(() => {});
  }
}
