import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../src/model/object.ts';
import type { Store } from '../../src/store/store.ts';
import { startServiceAllocator, type ServiceAllocator } from '../../src/network/service-allocator.ts';
import { ServiceAllocations } from '../../src/network/service-allocations.ts';
import { inCidr } from '../../src/model/ip-pool.ts';
import { cleanup, freshStore, open } from '../store/helpers.ts';
import { until } from '../support/wait.ts';

const running: ServiceAllocator[] = [];
test.after.each(async () => {
  await Promise.allSettled(running.splice(0).map((a) => a.stop()));
  await cleanup();
});

const svc = (name: string, spec: Record<string, unknown> = {}, namespace = 'default'): KubeObject => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name, namespace },
  spec: { selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }], ...spec },
});

async function start(store: Store, o: { serviceCidr?: string; nodePortRange?: [number, number]; retryDelayMs?: number; reserved?: { ip: string; holder: string }[] } = {}) {
  const lines: string[] = [];
  const a = await startServiceAllocator({ store, ...o, log: (m) => lines.push(m) });
  running.push(a);
  return Object.assign(a, { lines });
}

const get = (store: Store, name: string, ns = 'default') => store.get('Service', ns, name);
/** The Service once the allocator has given it a clusterIP. */
const allocated = (store: Store, name: string) => until(async () => { const s = await get(store, name); return s?.spec.clusterIP && s; }, `${name} to get a clusterIP`, 3000);
const warnings = async (store: Store, name: string) =>
  (await store.list('Event')).filter((e) => (e.involvedObject as any).name === name).map((e) => `${e.type} ${e.reason}: ${e.message} x${e.count}`).sort();

test('gives a Service a clusterIP preferred by its name; headless and ExternalName Services get none', async () => {
  const { store } = await freshStore();
  await store.create(svc('before'));
  await store.create(svc('headless', { clusterIP: 'None' }));
  await store.create(svc('ext', { type: 'ExternalName', externalName: 'example.com', ports: undefined }));
  const a = await start(store, { serviceCidr: '127.2.0.0/16' });
  const before = await get(store, 'before');
  const preferred = new ServiceAllocations('127.2.0.0/16', [30000, 32767]).preferredIp('default/before');
  assert.is(before!.spec.clusterIP, preferred, 'a Service already in the store is handled during start');
  assert.equal(before!.spec.clusterIPs, [preferred]);
  assert.is(before!.spec.ports[0].nodePort, undefined, 'ClusterIP Services get no nodePort');

  await store.create(svc('after', {}, 'shop'));
  const after = await until(async () => { const s = await get(store, 'after', 'shop'); return s?.spec.clusterIP && s; }, 'after to get a clusterIP');
  assert.ok(inCidr(after.spec.clusterIP, '127.2.0.0/16'));
  assert.is.not(after.spec.clusterIP, before!.spec.clusterIP);
  await a.idle();
  assert.is((await get(store, 'headless'))!.spec.clusterIP, 'None');
  assert.is((await get(store, 'ext'))!.spec.clusterIP, undefined);
  assert.equal(await store.list('Event'), [], 'nothing to warn about');
  assert.ok(a.lines.some((l) => l === `Service shop/after: allocated clusterIP ${after.spec.clusterIP}`), a.lines.join('\n'));
});

test('the cluster DNS address is never handed out, and a Service naming it is refused', async () => {
  const { store } = await freshStore();
  // 14 usable addresses, one kept for the DNS: 13 Services get one, none gets .10.
  for (let i = 0; i < 13; i++) await store.create(svc(`s${i}`));
  await store.create(svc('asks-dns', { clusterIP: '10.0.0.10' }));
  const a = await start(store, { serviceCidr: '10.0.0.0/28', reserved: [{ ip: '10.0.0.10', holder: 'the cluster DNS' }] });
  await a.idle();
  const ips = (await store.list('Service')).filter((s) => s.metadata.name !== 'asks-dns').map((s) => s.spec.clusterIP);
  assert.is(new Set(ips).size, 13);
  assert.not.ok(ips.includes('10.0.0.10'));
  assert.equal(await warnings(store, 'asks-dns'), [
    'Warning ClusterIPAlreadyAllocated: spec.clusterIPs: Invalid value: []string{"10.0.0.10"}: failed to allocate IP 10.0.0.10: provided IP is already allocated (to the cluster DNS) x1',
  ]);
});

test('allocations survive a git update that omits them; the allocator then writes nothing', async () => {
  const { store } = await freshStore();
  const a = await start(store);
  await store.create(svc('web', { type: 'NodePort' }));
  const first = await until(async () => { const s = await get(store, 'web'); return s?.spec.ports[0].nodePort && s; }, 'a nodePort');
  // What sync does on the next commit: the manifest as in git, no resourceVersion.
  await store.update(svc('web', { type: 'NodePort', selector: { app: 'web', tier: 'front' } }));
  await a.idle();
  const after = (await get(store, 'web'))!;
  assert.equal(after.spec.selector, { app: 'web', tier: 'front' }, 'the git change applied');
  assert.is(after.spec.clusterIP, first.spec.clusterIP);
  assert.is(after.spec.ports[0].nodePort, first.spec.ports[0].nodePort);
  assert.is(after.metadata.generation, first.metadata.generation! + 1, 'one write: git\'s, none by the allocator');
});

test('nodePorts for NodePort and LoadBalancer Services, within the range, one per port', async () => {
  const { store } = await freshStore();
  await start(store, { nodePortRange: [30100, 30104] });
  const ports = [{ name: 'http', port: 80 }, { name: 'metrics', port: 9090 }];
  await store.create(svc('np', { type: 'NodePort', ports }));
  await store.create(svc('lb', { type: 'LoadBalancer' }));
  await store.create(svc('lb-off', { type: 'LoadBalancer', allocateLoadBalancerNodePorts: false }));
  const np = await until(async () => { const s = await get(store, 'np'); return s?.spec.ports.every((p: any) => p.nodePort) && s; }, 'np nodePorts');
  const lb = await until(async () => { const s = await get(store, 'lb'); return s?.spec.ports[0].nodePort && s; }, 'lb nodePort');
  const all = [...np.spec.ports.map((p: any) => p.nodePort), lb.spec.ports[0].nodePort];
  assert.is(new Set(all).size, 3, `distinct: ${all}`);
  for (const p of all) assert.ok(p >= 30100 && p <= 30104, `${p} in range`);
  assert.equal(np.spec.ports.map((p: any) => p.name), ['http', 'metrics'], 'ports otherwise untouched');
  const off = await allocated(store, 'lb-off');
  assert.is(off.spec.ports[0].nodePort, undefined, 'allocateLoadBalancerNodePorts: false');

  // Two ports left in a range of five: a Service wanting three gets two and a warning for the third.
  await store.create(svc('big', { type: 'NodePort', ports: [{ name: 'a', port: 1 }, { name: 'b', port: 2 }, { name: 'c', port: 3 }] }));
  const big = await until(async () => { const s = await get(store, 'big'); return s?.spec.ports.filter((p: any) => p.nodePort).length === 2 && s; }, 'big nodePorts');
  const missing = big.spec.ports.findIndex((p: any) => p.nodePort === undefined);
  assert.equal(await warnings(store, 'big'), [
    `Warning PortNotAllocated: spec.ports[${missing}].nodePort: Internal error: failed to allocate a nodePort: range is full x1`,
  ]);

  // Switching to ClusterIP gives the ports back: a new NodePort Service can have them.
  await store.update(svc('np', { type: 'ClusterIP', ports }));
  await store.create(svc('late', { type: 'NodePort' }));
  const late = await until(async () => { const s = await get(store, 'late'); return s?.spec.ports[0].nodePort && s; }, 'late nodePort');
  assert.ok(np.spec.ports.some((p: any) => p.nodePort === late.spec.ports[0].nodePort), 'one of np\'s former ports');
});

test('one nodePort may serve a TCP and a UDP port of a Service (DNS); twice for one protocol is a duplicate', async () => {
  const { store } = await freshStore();
  const a = await start(store, { serviceCidr: '127.2.0.0/16', nodePortRange: [30000, 30099] });
  const dns = [{ name: 'dns', port: 53, protocol: 'UDP', nodePort: 30053 }, { name: 'dns-tcp', port: 53, protocol: 'TCP', nodePort: 30053 }];
  await store.create(svc('dns', { type: 'NodePort', ports: dns }));
  await store.create(svc('dup', { type: 'NodePort', ports: [{ name: 'a', port: 1, protocol: 'UDP', nodePort: 30054 }, { name: 'b', port: 2, protocol: 'UDP', nodePort: 30054 }] }));
  await allocated(store, 'dns');
  await a.idle();
  assert.equal(await warnings(store, 'dns'), []);
  assert.equal((await get(store, 'dns'))!.spec.ports.map((p: any) => p.nodePort), [30053, 30053]);
  assert.equal(await warnings(store, 'dup'), ['Warning PortAlreadyAllocated: spec.ports[1].nodePort: Duplicate value: 30054 x1']);
});

test('a git-given clusterIP or nodePort that is taken or out of range: a Warning event, no allocation', async () => {
  const { store } = await freshStore();
  const a = await start(store, { serviceCidr: '127.2.0.0/16', nodePortRange: [30000, 30099] });
  await store.create(svc('a', { clusterIP: '127.2.9.9', type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: 30050 }] }));
  await a.idle();
  await store.create(svc('b', { clusterIP: '127.2.9.9', type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: 30050 }, { name: 'x', port: 81, nodePort: 30050 }] }));
  await store.create(svc('c', { clusterIP: '10.0.0.1', type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: 80 }] }));
  await a.idle();
  assert.equal(await warnings(store, 'a'), []);
  assert.equal(await warnings(store, 'b'), [
    'Warning ClusterIPAlreadyAllocated: spec.clusterIPs: Invalid value: []string{"127.2.9.9"}: failed to allocate IP 127.2.9.9: provided IP is already allocated (to Service default/a) x1',
    'Warning PortAlreadyAllocated: spec.ports[0].nodePort: Invalid value: 30050: provided port is already allocated (to Service default/a) x1',
    'Warning PortAlreadyAllocated: spec.ports[1].nodePort: Duplicate value: 30050 x1',
  ]);
  assert.equal(await warnings(store, 'c'), [
    'Warning ClusterIPOutOfRange: spec.clusterIPs: Invalid value: []string{"10.0.0.1"}: failed to allocate IP 10.0.0.1: the provided IP (10.0.0.1) is not in the valid range. The range of valid IPs is 127.2.0.0/16 x1',
    'Warning PortOutOfRange: spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid range. The range of valid ports is 30000-30099 x1',
  ]);
  const c = (await get(store, 'c'))!;
  assert.is(c.spec.clusterIP, '10.0.0.1', 'git\'s value is left as it is');
  assert.is(c.spec.clusterIPs, undefined);

  // An unrelated change to b is synced again, but a standing problem is reported once.
  await store.update({ ...(await get(store, 'b'))!, metadata: { ...(await get(store, 'b'))!.metadata, labels: { touched: 'yes' } } });
  await a.idle();
  assert.ok((await warnings(store, 'b')).every((w) => w.endsWith(' x1')));

  // Once a is gone, b gets what it asked for: a newcomer asking for the same is now refused in b's name.
  await store.delete('Service', 'default', 'a');
  await a.idle();
  await store.create(svc('d', { clusterIP: '127.2.9.9' }));
  await a.idle();
  assert.equal(await warnings(store, 'd'), [
    'Warning ClusterIPAlreadyAllocated: spec.clusterIPs: Invalid value: []string{"127.2.9.9"}: failed to allocate IP 127.2.9.9: provided IP is already allocated (to Service default/b) x1',
  ]);
});

test('a Service deleted and created again gets the same clusterIP back, even after others came and went', async () => {
  const { store } = await freshStore();
  const a = await start(store, { serviceCidr: '127.2.0.0/24' });
  await store.create(svc('api'));
  const first = (await allocated(store, 'api')).spec.clusterIP;
  await store.delete('Service', 'default', 'api');
  for (const n of ['x1', 'x2', 'x3']) await store.create(svc(n));
  await a.idle();
  await store.create(svc('api'));
  assert.is((await allocated(store, 'api')).spec.clusterIP, first);
});

test('a write that loses to a concurrent one is retried on a fresh read, keeping the other writer\'s change', async () => {
  const { store: real } = await freshStore();
  let raced = 0;
  // Another writer (git, say) updates the Service between the allocator's read and its write: a real Conflict.
  const store: Store = new Proxy(real, {
    get(target, prop, receiver) {
      if (prop === 'update') {
        return async (o: KubeObject) => {
          if (o.kind === 'Service' && o.metadata.resourceVersion && raced++ === 0) {
            const cur = (await target.get('Service', 'default', o.metadata.name))!;
            await target.update({ ...cur, metadata: { ...cur.metadata, labels: { from: 'git' } } });
          }
          return target.update(o);
        };
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  const a = await start(store, { retryDelayMs: 60_000 });
  await real.create(svc('web'));
  const s = await allocated(real, 'web');
  assert.is(raced, 2, 'the first write conflicted, the second went through');
  assert.equal(s.metadata.labels, { from: 'git' });
  assert.ok(!a.lines.some((l) => l.includes('failed')), `retried at once, not failed: ${a.lines}`);
});

test('after a restart, values in the store are reserved before anything is handed out', async () => {
  const { store, dir } = await freshStore();
  // Two usable addresses and two node ports: b would collide with z if z's values were not reserved.
  const o = { serviceCidr: '127.2.7.0/30', nodePortRange: [30000, 30001] as [number, number] };
  const ledger = new ServiceAllocations(o.serviceCidr, o.nodePortRange);
  const first = await start(store, o);
  await store.create(svc('z', { type: 'NodePort' }));
  const z = await until(async () => { const s = await get(store, 'z'); return s?.spec.ports[0].nodePort && s; }, 'z allocated');
  await first.stop();
  await store.close();

  const bName = Array.from({ length: 200 }, (_, i) => `b${i}`).find((n) =>
    ledger.preferredIp(`default/${n}`) === z.spec.clusterIP && ledger.preferredPort(`default/${n}`, { name: 'http' }) === z.spec.ports[0].nodePort)!;
  assert.ok(bName, 'a name that prefers exactly what z holds');
  const again = await open(dir);
  await again.create(svc(bName, { type: 'NodePort' }));
  // The store lists by name, so b is looked at before z: only the reservation at start keeps z's values z's.
  assert.equal((await again.list('Service')).map((s) => s.metadata.name), [bName, 'z']);
  await start(again, o);
  const b = (await get(again, bName))!;
  assert.ok(b.spec.clusterIP && b.spec.clusterIP !== z.spec.clusterIP, `b got ${b.spec.clusterIP}, z holds ${z.spec.clusterIP}`);
  assert.ok(b.spec.ports[0].nodePort && b.spec.ports[0].nodePort !== z.spec.ports[0].nodePort);
  assert.equal((await get(again, 'z'))!.spec, z.spec, 'z keeps its values');
  assert.equal(await again.list('Event'), []);

  await again.create(svc('c'));
  await until(async () => (await warnings(again, 'c')).length > 0, 'c to be refused');
  assert.equal(await warnings(again, 'c'), ['Warning ClusterIPNotAllocated: failed to allocate a serviceIP: range is full x1']);
});

test.run();
