// UDP Service ports through the userspace proxy: real UDP echo backends, real datagrams to the ClusterIP and the
// NodePort; and SCTP, which Node cannot serve, warned about at validation instead of dropped silently.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import dgram from 'node:dgram';
import type { KubeObject } from '../../src/model/object.ts';
import type { Store } from '../../src/store/store.ts';
import { startServiceProxy, type ServiceProxy } from '../../src/network/proxy.ts';
import { desiredRoutes } from '../../src/network/proxy-routes.ts';
import { cleanup, freshStore } from '../store/helpers.ts';
import { brief, load } from '../manifests/helpers.ts';
import { until } from '../support/wait.ts';
import { randomAddress } from './tcp.ts';

interface Echo { name: string; ip: string; port: number; socket: dgram.Socket; got: string[] }

/** Replies `<name>:<datagram>` to whoever sent it. */
async function echo(name: string): Promise<Echo> {
  const socket = dgram.createSocket('udp4');
  const e: Echo = { name, ip: randomAddress(1), port: 0, socket, got: [] };
  socket.on('message', (m, from) => {
    e.got.push(String(m));
    socket.send(`${name}:${m}`, from.port, from.address);
  });
  await new Promise<void>((resolve, reject) => socket.once('error', reject).bind(0, e.ip, () => resolve()));
  e.port = socket.address().port;
  return e;
}

/** A client socket of its own (one "connection"): `ask` sends a datagram and waits for the reply, or says `timeout`. */
async function client() {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  const ask = (host: string, port: number, text: string, ms = 1500) => new Promise<string>((resolve) => {
    const t = setTimeout(() => { socket.off('message', on); resolve('timeout'); }, ms);
    const on = (m: Buffer) => { clearTimeout(t); socket.off('message', on); resolve(String(m)); };
    socket.on('message', on);
    socket.send(text, port, host);
  });
  return { socket, ask };
}

const opened: { close(): unknown }[] = [];
const proxies: ServiceProxy[] = [];
test.after.each(async () => {
  await Promise.allSettled(proxies.splice(0).map((p) => p.stop()));
  for (const o of opened.splice(0)) o.close();
  await cleanup();
});

const svc = (name: string, clusterIP: string, spec: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' },
  spec: { clusterIP, clusterIPs: [clusterIP], selector: { app: name }, ports: [{ name: 'dns', port: 5353, protocol: 'UDP' }], ...spec },
});
const endpoints = (name: string, ready: Echo[]): KubeObject => ({
  apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace: 'default' },
  subsets: ready.map((e) => ({ addresses: [{ ip: e.ip }], ports: [{ name: 'dns', port: e.port, protocol: 'UDP' }] })),
});

async function start(store: Store, nodeHost?: string) {
  const lines: string[] = [];
  const p = await startServiceProxy({ store, nodeHost, log: (m) => lines.push(m), udpIdleTimeoutMs: 200 });
  proxies.push(p);
  return Object.assign(p, { lines });
}
const listeningOn = (p: ServiceProxy, address: string, port: number) =>
  until(() => p.listening().find((l) => l.address === address && l.port === port && l.protocol === 'UDP'), `UDP on ${address}:${port}`, 3000);

test('UDP on the ClusterIP and the NodePort: each client keeps its endpoint, clients are spread round-robin', async () => {
  const { store } = await freshStore();
  const [e1, e2] = [await echo('e1'), await echo('e2')];
  opened.push(e1.socket, e2.socket);
  const ip = randomAddress(2);
  const nodeHost = randomAddress(3);
  await store.create(svc('dns', ip, { type: 'NodePort', ports: [{ name: 'dns', port: 5353, protocol: 'UDP', nodePort: 30053 }] }));
  await store.create(endpoints('dns', [e1, e2]));
  const p = await start(store, nodeHost);
  assert.equal(await listeningOn(p, ip, 5353), { address: ip, port: 5353, service: 'default/dns', portName: 'dns', kind: 'clusterIP', protocol: 'UDP' });
  await listeningOn(p, nodeHost, 30053);

  const [a, b] = [await client(), await client()];
  opened.push(a.socket, b.socket);
  const first = await a.ask(ip, 5353, 'a1');
  assert.match(first, /^e[12]:a1$/);
  const mine = first.slice(0, 2);
  // Replies come back from the ClusterIP (a connected client socket would drop anything else), and the same
  // client keeps its endpoint while it talks.
  assert.is(await a.ask(ip, 5353, 'a2'), `${mine}:a2`);
  const other = mine === 'e1' ? 'e2' : 'e1';
  assert.is(await b.ask(ip, 5353, 'b1'), `${other}:b1`, 'the next client goes to the other endpoint');
  assert.match(await a.ask(nodeHost, 30053, 'n1'), /^e[12]:n1$/, 'the NodePort relays too');
});

test('a client whose endpoint left moves to a ready one; its flow to the old one is drained and acknowledged', async () => {
  const { store } = await freshStore();
  const [e1, e2] = [await echo('e1'), await echo('e2')];
  opened.push(e1.socket, e2.socket);
  const ip = randomAddress(2);
  await store.create(svc('dns', ip));
  await store.create(endpoints('dns', [e1]));
  const p = await start(store);
  await listeningOn(p, ip, 5353);
  const c = await client();
  opened.push(c.socket);
  assert.is(await c.ask(ip, 5353, 'x'), 'e1:x');
  const ack = async () => (await store.get('Endpoints', 'default', 'dns'))!.metadata.annotations?.['convergit.dev/proxied-generation'];
  const cur = (await store.get('Endpoints', 'default', 'dns'))!;
  await store.update({ ...cur, subsets: endpoints('dns', [e2]).subsets });
  assert.is(await c.ask(ip, 5353, 'y'), 'e2:y', 'the next datagram goes to the ready endpoint');
  // The flow to e1 ends after the idle timeout; then generation 2 is acknowledged (the node may stop e1's pod).
  await until(async () => (await ack()) === '2', 'the second generation acknowledged once the old flow idled out', 5000);
  assert.equal(e1.got, ['x']);
});

test('no ready endpoints: datagrams are dropped, said once in the log', async () => {
  const { store } = await freshStore();
  const ip = randomAddress(2);
  await store.create(svc('dns', ip));
  await store.create(endpoints('dns', []));
  const p = await start(store);
  await listeningOn(p, ip, 5353);
  const c = await client();
  opened.push(c.socket);
  assert.is(await c.ask(ip, 5353, 'x', 300), 'timeout');
  assert.is(await c.ask(ip, 5353, 'y', 300), 'timeout');
  assert.equal(p.lines.filter((l) => l.includes('no ready endpoints')), ['default/dns:dns/UDP: no ready endpoints; dropping UDP datagrams']);
});

test('SCTP: not served, and validation says so at the field (an error with --strict); UDP passes', () => {
  const yaml = 'apiVersion: v1\nkind: Service\nmetadata:\n  name: sig\nspec:\n  selector: { app: sig }\n  ports:\n'
    + '    - name: sctp\n      port: 9000\n      protocol: SCTP\n    - name: udp\n      port: 9001\n      protocol: UDP\n';
  const r = load(yaml);
  const why = 'protocol "SCTP" is a Kubernetes value that convergit does not implement (Node.js has no SCTP sockets, so the service proxy does not serve this port)';
  assert.equal(brief(r), [`warning 10:7 spec.ports[0].protocol: ${why}`]);
  assert.is(r.objects[0].object.spec.ports[0].protocol, 'SCTP', 'kept as written: dropping it would make it TCP');
  const strict = load(yaml, { strict: true });
  assert.equal(brief(strict), [`error 10:7 spec.ports[0].protocol: ${why}`]);
  assert.is(strict.objects.length, 0);
  const o = r.objects[0].object;
  const { routes } = desiredRoutes([{ ...o, spec: { ...o.spec, clusterIP: '127.5.0.1' } }], '127.0.0.1');
  assert.equal([...routes.keys()], ['127.5.0.1:9001/UDP'], 'the SCTP port gets no listener');
});

test.run();
