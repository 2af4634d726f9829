// The usage reporter's samples and their rates. A sample that overruns the resolution (a slow runtime, a loaded
// machine) must not overlap the next: one that ended after a later one took its rate against it, backwards.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { startUsageReporter } from '../../src/node/usage-reporter.ts';
import { PidsFile } from '../../src/node/pids-file.ts';
import type { NodeUsage } from '../../src/model/node-usage.ts';
import type { Runtime } from '../../src/node/runtime/runtime.ts';
import type { Store } from '../../src/store/store.ts';
import { openTestStore } from './helpers.ts';
import { until } from '../support/wait.ts';

test('a sample that overruns the resolution is not overlapped: every window is positive and every rate the real one', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'convergit-usage-'));
  try {
    const store = await openTestStore(dir);
    const pids = new PidsFile(join(dir, 'nodes', 'n1', 'pids.json'));
    pids.load();
    pids.add({ podUID: 'u1', container: 'c', record: { id: 'one' }, launch: {} as never, restartCount: 0, graceMs: 0 });
    // A container using a fifth of a core; the runtime's second answer takes five resolutions to come, its figures
    // read at the end (as a runtime that first finds its containers' cgroups, then reads them).
    const start = performance.now();
    let calls = 0;
    const runtime = {
      usage: async (records: unknown[]) => {
        if (++calls === 2) await delay(150);
        const cpuSeconds = ((performance.now() - start) / 1000) * 0.2;
        return records.map(() => ({ cpuSeconds, memoryBytes: 1 }));
      },
    } as unknown as Runtime;
    const written: NodeUsage[] = [];
    const spy = new Proxy(store, {
      get(t, p) {
        if (p === 'setMeta') return async (k: string, v: NodeUsage) => { if (v) written.push(v); return t.setMeta(k, v); };
        const v = Reflect.get(t, p);
        return typeof v === 'function' ? v.bind(t) : v;
      },
    }) as Store;
    const reporter = startUsageReporter({ store: spy, nodeName: 'n1', dataDir: dir, runtime, resolutionMs: 30 });
    await until(() => written.length >= 6, 'six usage records');
    await reporter.stop();
    assert.ok(calls >= 3, `the slow sample was followed by others (${calls} samples)`);
    for (const u of written) {
      assert.ok(u.windowSeconds >= 0.015, `a window of half the resolution at least: ${JSON.stringify(u)}`);
      const cores = u.containers[0].cpuNanoCores / 1e9;
      assert.ok(cores > 0.15 && cores < 0.25, `the container's fifth of a core: ${JSON.stringify(u)}`);
    }
    assert.ok(written.some((u) => u.windowSeconds >= 0.15), 'the slow sample\'s window spans its wait');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
