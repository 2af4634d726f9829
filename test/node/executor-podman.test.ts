// The node executor on podman: a git: image's tree mounted over the image --git-image-base names (its PATH, not
// the host's), the pod's address from the node's CIDR on its bridge, and the sandbox gone with the pod.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PodmanRuntime } from '../../src/node/runtime/podman/podman.ts';
import { containerLogFile, presentLog } from '../../src/node/logs.ts';
import { podmanMissing, removeLeftoverNetworks } from '../support/podman.ts';
import { pushBusyboxImage, registryMissing, removeImages, startRegistry, type Registry } from '../support/registry.ts';
import { until } from '../support/wait.ts';
import type { RunningNode } from '../../src/node/executor.ts';
import type { LowdbStore } from '../../src/store/lowdb-store.ts';
import { cleanup, fastNode, nodePod, openTestStore, statusOf, tempDir } from './helpers.ts';

const missing = podmanMissing() ?? registryMissing();
if (missing) {
  console.log(`executor-podman: skipped, ${missing}`);
} else {
  let registry: Registry, runtime: PodmanRuntime, node: RunningNode | undefined, nodeStore: LowdbStore | undefined;
  const OID = 'a'.repeat(40);

  test.before(async () => {
    removeLeftoverNetworks('10-247-');
    registry = await startRegistry();
    pushBusyboxImage(`${registry.host}/base:1`, { cmd: ['sh'] });
  });
  test.after(async () => {
    // The node first, then the runtime (its bridge), then the folders (podman's configuration is in one).
    await node?.stop();
    await runtime?.close();
    await cleanup();
    removeImages(registry.host);
    await registry?.stop();
  });

  test('a git: image over --git-image-base, on the node\'s bridge; deleting the pod removes its sandbox', async () => {
    const dataDir = await tempDir();
    const store = nodeStore = await openTestStore(dataDir);
    runtime = await PodmanRuntime.create({ stateDir: join(dataDir, 'podman') });
    node = await fastNode(store, dataDir, { runtime, clusterCIDR: '10.247.0.0/16', gitImageBase: `${registry.host}/base:1`, evictionMonitoringMs: 200 });
    const pod = nodePod('git-base', '', {
      container: { image: `git:apps/hello@${OID}`, command: ['sh', '-c', 'cat lib/hello.txt; echo "PATH=$PATH"; sleep 300'] },
    });
    const created = await store.create(pod);
    const running = await until(async () => {
      const p = await store.get('Pod', 'default', 'git-base');
      return statusOf(p)?.state?.running && p;
    }, 'the container running', 60_000);
    assert.match(running!.status.podIP, /^10\.247\.0\.(\d+)$/);
    assert.is.not(running!.status.podIP, '10.247.0.1');
    const log = containerLogFile(dataDir, { namespace: 'default', name: 'git-base', uid: created.metadata.uid }, 'main', 0);
    await until(async () => (await readFile(log, 'utf8').catch(() => '')).includes('PATH='), 'the log written', 30_000);
    assert.is(presentLog(await readFile(log, 'utf8'), {}), 'hello from the image\nPATH=/bin\n', 'the base image\'s PATH, not the host\'s');
    const sandboxes = () => execFileSync('podman', ['pod', 'ps', '-q', '--filter', `label=convergit.pod-uid=${created.metadata.uid}`], { encoding: 'utf8' }).trim();
    assert.ok(sandboxes(), 'the pod has a sandbox');
    await store.delete('Pod', 'default', 'git-base');
    await until(async () => !(await store.get('Pod', 'default', 'git-base')), 'the pod removed', 60_000);
    assert.is(sandboxes(), '', 'its sandbox is gone');
  });

  test('a container that writes /dev/termination-log ends with that message (the file mounted there)', async () => {
    // The node of the test above, on its own when run alone.
    if (!node || !nodeStore) {
      const dataDir = await tempDir();
      nodeStore = await openTestStore(dataDir);
      runtime = await PodmanRuntime.create({ stateDir: join(dataDir, 'podman') });
      node = await fastNode(nodeStore, dataDir, { runtime, clusterCIDR: '10.247.0.0/16', evictionMonitoringMs: 200 });
    }
    const s = nodeStore;
    await s.create(nodePod('last-words', '', {
      spec: { restartPolicy: 'Never' },
      container: { image: `${registry.host}/base:1`, command: ['sh', '-c', 'printf bye > /dev/termination-log; exit 3'] },
    }));
    const t = await until(async () => statusOf(await s.get('Pod', 'default', 'last-words'))?.state?.terminated, 'terminated', 60_000);
    assert.equal([t.exitCode, t.message], [3, 'bye']);
  });

  test('a container writing past its emptyDir sizeLimit: the pod is evicted (the folder podman mounts is the one measured)', async () => {
    const s = nodeStore!;
    await s.create(nodePod('hoarder', '', {
      spec: { terminationGracePeriodSeconds: 1, volumes: [{ name: 'scratch', emptyDir: { sizeLimit: '1Mi' } }] },
      container: { image: `${registry.host}/base:1`, command: ['sh', '-c', 'dd if=/dev/zero of=/scratch/blob bs=1024 count=2048; sleep 300'], volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }] },
    }));
    const p = await until(async () => { const p = await s.get('Pod', 'default', 'hoarder'); return p?.status?.phase === 'Failed' && p; }, 'evicted', 60_000);
    assert.equal([p.status.reason, p.status.message], ['Evicted', 'Usage of EmptyDir volume "scratch" exceeds the limit "1Mi". ']);
  });

  test.run();
}
