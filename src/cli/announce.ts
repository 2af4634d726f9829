// Prints where each NodePort Service can be opened, once its port is allocated, so that `npm start` ends with a
// URL to click rather than an address to work out.
import type { Store } from '../store/store.ts';
import { Informer } from '../store/informer.ts';
import type { KubeObject } from '../model/object.ts';

export async function announceNodePorts(store: Store, host: string, print: (line: string) => void): Promise<() => void> {
  const told = new Set<string>();
  const tell = (svc: KubeObject) => {
    for (const p of svc.spec?.ports ?? []) {
      if (!p.nodePort) continue;
      const url = `http://${host}:${p.nodePort}/`;
      const key = `${svc.metadata.namespace}/${svc.metadata.name}/${url}`;
      if (told.has(key)) continue;
      told.add(key);
      print(`Service ${svc.metadata.namespace}/${svc.metadata.name}${p.name ? ` (${p.name})` : ''}: open ${url}`);
    }
  };
  const services = new Informer(store, 'Service').on({ add: tell, update: (_old, svc) => tell(svc) });
  await services.start();
  return () => services.stop();
}
