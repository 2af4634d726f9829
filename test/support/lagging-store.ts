// A store as a remote one looks: every watch event arrives late, so informer caches lag behind the writes.
import type { Store } from '../../src/store/store.ts';

export function lagging(store: Store, ms: number): Store {
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'watch') {
        return (opts: Parameters<Store['watch']>[0], handler: Parameters<Store['watch']>[1]) =>
          target.watch(opts, (e) => { setTimeout(() => handler(e), ms); });
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}
