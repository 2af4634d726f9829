// A node executor in its own process, for the crash test: it runs one pod, reports its process, and waits to be killed.
// Usage: node --import tsx node-child.ts <dataDir> [listening]; prints {"pid":…,"uid":…} once the pod runs and the store is on disk.
import { openStore } from '../../src/store/lowdb-store.ts';
import { join } from 'node:path';
import { startNode } from '../../src/node/executor.ts';
import { PidsFile } from '../../src/node/pids-file.ts';
import { ProcessRuntime } from '../../src/node/runtime/process.ts';
import { until } from '../support/wait.ts';
import { nodePod, pidOf, statusOf, testImages } from './helpers.ts';
import { isMainModule } from '../support/child-main.ts';

if (isMainModule(import.meta.url)) {
  const dataDir = process.argv[2];
  const store = await openStore(dataDir, { flushDelay: 1 });
  await startNode({ store, dataDir, nodeName: 'node-a', runtime: new ProcessRuntime(), images: testImages(dataDir) });
  // SIGTERM is ignored so that only the kill of its group (the leftover reaper) can end it.
  // `listening`: it serves on its pod's address, ready by a TCP probe of it; a pod `filler` took the node's first address.
  const listening = process.argv[3] === 'listening';
  if (listening) {
    await store.create(nodePod('filler', 'setInterval(() => {}, 1000)'));
    await until(async () => (await store.get('Pod', 'default', 'filler'))?.status?.podIP, 'filler addressed');
  }
  await store.create(listening
    ? nodePod('orphan', "process.on('SIGTERM', () => {}); require('net').createServer().listen(8080, process.env.POD_IP)", {
      container: { readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 } },
    })
    : nodePod('orphan', "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)"));
  const pod = await until(async () => { const p = await store.get('Pod', 'default', 'orphan'); return p?.status?.phase === 'Running' && p; }, 'orphan running');
  await store.flush();
  PidsFile.flushPending(join(dataDir, 'nodes', 'node-a', 'pids.json')); // the container's record on disk too
  process.stdout.write(`${JSON.stringify({ pid: pidOf(statusOf(pod).containerID), uid: pod.metadata.uid })}\n`);
}
