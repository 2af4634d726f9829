// Committed APIServices' availability: stop() is final (a request at shutdown starts no informer). Real store.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openStore } from '../../src/store/lowdb-store.ts';
import { ApiServiceAvailability } from '../../src/api/api-services.ts';
import type { Store, WatchOptions } from '../../src/store/store.ts';

let dir: string, store: Store;

/** The real store, counting the watches open on it by kind: what tells which informers run. */
function counting(inner: Store): Store & { open: () => string[] } {
  const live = new Map<object, string>();
  const proxy = new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'open') return () => [...live.values()].sort();
      if (prop === 'watch') {
        return async (opts: WatchOptions, handler: Parameters<Store['watch']>[1]) => {
          const stop = await target.watch(opts, handler);
          const key = {};
          live.set(key, opts.kind ?? '*');
          return () => { live.delete(key); stop(); };
        };
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  return proxy as Store & { open: () => string[] };
}

test.before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'convergit-apisvc-'));
  store = await openStore(dir);
});

test.after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

test('stop() is final: ready() after it is refused and starts nothing, and a ready() under way when it stops leaves nothing running', async () => {
  const counted = counting(store);
  const late = new ApiServiceAvailability(counted);
  late.stop();
  await late.ready().then(() => assert.unreachable('ready() after stop()'), (e) => assert.equal([e.code, e.message], [503, 'the API server is shutting down']));
  assert.equal(counted.open(), []);

  const racing = new ApiServiceAvailability(counted);
  const starting = racing.ready();
  racing.stop();
  await starting.then(() => assert.unreachable('ready() that stop() overtook'), (e) => assert.is(e.code, 503));
  assert.equal(counted.open(), [], 'every informer it started is stopped');

});

test.run();
