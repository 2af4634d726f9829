// Prints where each NodePort Service can be opened, once its port is open, so that `npm start` ends with a URL to
// click rather than an address to work out: on --host when this serve holds the port there, else on the node's own
// address (another serve on the machine got the shared one first: the proxy reports that in /status).
import type { Store } from '../store/store.ts';
import { Informer } from '../store/informer.ts';
import type { KubeObject } from '../model/object.ts';
import type { ListeningPort } from '../network/proxy.ts';

export async function announceNodePorts(store: Store, host: string, listening: () => ListeningPort[], print: (line: string) => void, checkMs = 250): Promise<() => void> {
  const told = new Set<string>();
  /** Service ports with a nodePort not announced yet, until the proxy has opened them. */
  const pending = new Map<string, { svc: KubeObject; name?: string; nodePort: number; protocol: string }>();
  const tell = (svc: KubeObject) => {
    for (const p of svc.spec?.ports ?? []) {
      if (!p.nodePort) continue;
      const protocol = p.protocol ?? 'TCP';
      const key = `${svc.metadata.namespace}/${svc.metadata.name}/${p.nodePort}/${protocol}`;
      if (!told.has(key)) pending.set(key, { svc, name: p.name, nodePort: p.nodePort, protocol });
    }
  };
  const check = () => {
    if (!pending.size) return;
    const open = listening().filter((l) => l.kind === 'nodePort');
    for (const [key, { svc, name, nodePort, protocol }] of pending) {
      const service = `${svc.metadata.namespace}/${svc.metadata.name}`;
      const at = open.filter((l) => l.port === nodePort && l.service === service && l.protocol === protocol).map((l) => (l.address === '0.0.0.0' || l.address === '::' ? host : l.address));
      if (!at.length) continue;
      pending.delete(key);
      told.add(key);
      // The shared host (127.0.0.1 by default; `host` stands for 0.0.0.0 too) when it is ours, else the nodes' own.
      const where = at.includes(host) || !at.some((a) => a !== host) ? [host] : at.filter((a) => a !== host);
      // A UDP port is no web page: its address and protocol only.
      const url = (a: string) => (protocol === 'TCP' ? `http://${a}:${nodePort}/` : `${a}:${nodePort}/${protocol}`);
      print(`Service ${service}${name ? ` (${name})` : ''}: open ${where.map(url).join(' ')}`);
    }
  };
  const services = new Informer(store, 'Service').on({ add: tell, update: (_old, svc) => tell(svc) });
  await services.start();
  const timer = setInterval(check, checkMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    services.stop();
  };
}
