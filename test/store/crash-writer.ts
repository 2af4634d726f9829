// A store writing in a loop in its own process, for the crash test: prints each resourceVersion it hands out (stdout
// to a pipe is synchronous on Linux, so the parent has seen only versions that were handed out) until it is killed.
// Usage: node --import tsx crash-writer.ts <dataDir> <flushDelayMs> [journalMinBytes]
import { openStore } from '../../src/store/lowdb-store.ts';
import { isMainModule } from '../support/child-main.ts';

if (isMainModule(import.meta.url)) {
  const store = await openStore(process.argv[2], { flushDelay: Number(process.argv[3]), journalMin: process.argv[4] ? Number(process.argv[4]) : undefined });
  process.stdout.write(`start ${await store.resourceVersion()}\n`);
  const filler = 'x'.repeat(2000); // big enough that a write of state.json takes a while to be caught in
  for (let i = 0; ; i++) {
    const name = `cm-${i % 300}`;
    const cur = await store.get('ConfigMap', 'default', name);
    const o = i % 7 === 6 && cur
      ? await store.delete('ConfigMap', 'default', name)
      : cur
        ? await store.update({ ...cur, data: { i: String(i), filler } })
        : await store.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data: { i: String(i), filler } });
    if (i % 50 === 0) await store.setMeta('progress', { i });
    process.stdout.write(`rv ${o?.metadata.resourceVersion ?? await store.resourceVersion()}\n`);
    if (i % 20 === 0) await new Promise((r) => setImmediate(r)); // let the persister's timer run
  }
}
