// The shared runtime suite on podman: containers without an image run the host's programs (its system folders,
// read-only) in their own namespaces, the test's folder mounted at its own path.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runtimeConformance } from './runtime-conformance.ts';
import { PodmanRuntime } from '../../src/node/runtime/podman/podman.ts';
import { podmanMissing } from '../support/podman.ts';

const missing = podmanMissing();
if (missing) {
  console.log(`runtime-podman: skipped, ${missing}`);
} else {
  let runtime: PodmanRuntime;
  let stateDir = '';
  let second: PodmanRuntime | undefined;
  runtimeConformance('PodmanRuntime', () => runtime, {
    before: async () => {
      stateDir = await mkdtemp(join(tmpdir(), 'convergit-podman-'));
      runtime = await PodmanRuntime.create({ stateDir });
    },
    after: async () => {
      await runtime.close();
      second?.close();
      await rm(stateDir, { recursive: true, force: true });
    },
    launch: (dir) => ({ mounts: [{ hostPath: dir, containerPath: dir }] }),
    pidNamespace: true,
    restarted: async () => (second ??= await PodmanRuntime.create({ stateDir })),
    createsWorkingDir: true,
  });
}
