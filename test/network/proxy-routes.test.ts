// What the service proxy listens on (src/network/proxy-routes.ts): a Service's routes from its ports, conflicts
// decided by who holds the port now, else age, and each Service's routes made once per object (the store replaces a
// Service it changes), again when it is replaced or the nodes' addresses change.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { desiredRoutes, listenKey } from '../../src/network/proxy-routes.ts';
import type { KubeObject } from '../../src/model/object.ts';

const svc = (name: string, spec: Record<string, unknown>, created = '2026-12-06T10:00:00Z'): KubeObject =>
  ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default', creationTimestamp: created }, spec }) as KubeObject;

test('clusterIP, NodePort and LoadBalancer ports: one route each, on every node host', () => {
  const web = svc('web', { type: 'LoadBalancer', clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80, nodePort: 30080 }, { port: 53, protocol: 'UDP' }, { port: 9, protocol: 'SCTP' }] });
  const { routes, conflicts } = desiredRoutes([web], ['127.0.0.1', '10.0.0.2']);
  assert.equal([...routes.keys()].sort(), [
    '10.0.0.2:30080', '10.0.0.2:53/UDP', '10.0.0.2:80', '10.96.0.10:53/UDP', '10.96.0.10:80',
    '127.0.0.1:30080', '127.0.0.1:53/UDP', '127.0.0.1:80',
  ]);
  assert.equal(routes.get('127.0.0.1:30080'), { service: 'default/web', namespace: 'default', name: 'web', address: '127.0.0.1', port: 30080, portName: 'http', kind: 'nodePort', protocol: 'TCP' });
  assert.equal(conflicts, []);
});

test('two Services on one address and port: the one served now keeps it, else the older', () => {
  const old = svc('old', { clusterIP: '10.96.0.5', ports: [{ port: 80 }] }, '2026-12-06T09:00:00Z');
  const young = svc('young', { clusterIP: '10.96.0.5', ports: [{ port: 80 }] }, '2026-12-06T10:00:00Z');
  const key = listenKey('10.96.0.5', 80);
  const byAge = desiredRoutes([young, old], '127.0.0.1');
  assert.is(byAge.routes.get(key)!.service, 'default/old');
  assert.equal(byAge.conflicts.map((c) => [c.route.service, c.heldBy]), [['default/young', 'default/old']]);
  const held = desiredRoutes([young, old], '127.0.0.1', new Map([[key, 'default/young']]));
  assert.is(held.routes.get(key)!.service, 'default/young');
});

test('a Service\'s routes are made once per object: again when it is replaced or the node hosts change', () => {
  const a = svc('a', { type: 'NodePort', clusterIP: '10.96.0.7', ports: [{ port: 80, nodePort: 30007 }] });
  const first = desiredRoutes([a], '127.0.0.1').routes, again = desiredRoutes([a], '127.0.0.1').routes;
  assert.ok(first.get('10.96.0.7:80') === again.get('10.96.0.7:80'), 'the same route objects');
  const replaced = { ...a, spec: { ...a.spec, ports: [{ port: 81, nodePort: 30007 }] } } as KubeObject;
  assert.equal([...desiredRoutes([replaced], '127.0.0.1').routes.keys()].sort(), ['10.96.0.7:81', '127.0.0.1:30007']);
  assert.equal([...desiredRoutes([a], ['127.0.0.2']).routes.keys()].sort(), ['10.96.0.7:80', '127.0.0.2:30007']);
  assert.equal([...desiredRoutes([a], '127.0.0.1').routes.keys()].sort(), ['10.96.0.7:80', '127.0.0.1:30007']);
});

test.run();
