// Cluster DNS over real sockets: a store filled here, the server on 127.0.0.1, asked by Node's own resolver
// (c-ares: UDP, and TCP after a truncated reply) and by hand over TCP.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import net from 'node:net';
import { Resolver } from 'node:dns/promises';
import * as dns from 'dns-packet';
import type { KubeObject } from '../../../src/model/object.ts';
import type { LowdbStore } from '../../../src/store/lowdb-store.ts';
import { startClusterDns, clusterDnsIp, type ClusterDns } from '../../../src/network/dns/cluster-dns.ts';
import { startDnsServer, type DnsServer } from '../../../src/network/dns/dns-server.ts';
import { upstream } from '../../../src/network/dns/upstream.ts';
import { cleanup, freshStore } from '../../store/helpers.ts';
import { until } from '../../support/wait.ts';

let store: LowdbStore;
let server: ClusterDns;
let other: DnsServer;
let resolver: Resolver;

const svc = (name: string, spec: Record<string, unknown>): KubeObject => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' },
  spec: { selector: { app: name }, ports: [{ name: 'http', port: 80, protocol: 'TCP' }], ...spec },
});
const pod = (name: string, ip: string, spec: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' },
  spec: { containers: [{ name: 'c', image: 'x' }], ...spec }, status: { podIP: ip },
});
const ref = (name: string) => ({ kind: 'Pod', namespace: 'default', name });
const code = (p: Promise<unknown>) => p.then(() => 'resolved', (e) => e.code);

test.before(async () => {
  ({ store } = await freshStore());
  await store.create(svc('backend', { clusterIP: '10.96.4.4', clusterIPs: ['10.96.4.4'] }));
  await store.create(svc('db', { clusterIP: 'None', ports: [{ name: 'sql', port: 5432, protocol: 'TCP' }] }));
  await store.create(pod('db-0', '10.244.0.7', { hostname: 'db-0', subdomain: 'db' }));
  await store.create(pod('db-1', '10.244.0.8'));
  await store.create(pod('db-2', '10.244.0.9', { hostname: 'db-2', subdomain: 'db' }));
  await store.create({
    apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'db', namespace: 'default' },
    subsets: [{
      addresses: [{ ip: '10.244.0.7', targetRef: ref('db-0') }, { ip: '10.244.0.8', targetRef: ref('db-1') }],
      notReadyAddresses: [{ ip: '10.244.0.9', targetRef: ref('db-2') }],
      ports: [{ name: 'sql', port: 5432, protocol: 'TCP' }],
    }],
  });
  await store.create(svc('ext', { type: 'ExternalName', externalName: 'example.org' }));
  await store.create(svc('ext-out', { type: 'ExternalName', externalName: '10-1-1-1.x.pod.example.test' }));
  // Many ready endpoints: more than a UDP reply holds, so the client must come back over TCP.
  await store.create(svc('many', { clusterIP: 'None' }));
  await store.create({
    apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'many', namespace: 'default' },
    subsets: [{ addresses: Array.from({ length: 60 }, (_, i) => ({ ip: `10.244.1.${i + 1}` })), ports: [{ name: 'http', port: 80, protocol: 'TCP' }] }],
  });
  // The "host's resolver" names forward to: another server, whose zone is example.test, with one name too big for UDP.
  const big = svc('big', { clusterIP: 'None' });
  const bigEndpoints = { ...big, kind: 'Endpoints', subsets: [{ addresses: Array.from({ length: 60 }, (_, i) => ({ ip: `10.245.0.${i + 1}` })) }] };
  other = await startDnsServer({
    address: '127.0.0.1', port: 0, zone: 'example.test', upstream: upstream([]),
    view: {
      service: (_, n) => (n === 'big' ? big : undefined), endpoints: (_, n) => (n === 'big' ? bigEndpoints : undefined),
      pod: () => undefined, servicesWithIp: () => [], namespaceExists: () => true,
    },
  });
  server = await startClusterDns({ store, address: '127.0.0.1', port: 0, nameservers: [{ host: '127.0.0.1', port: other.port }] });
  resolver = new Resolver({ timeout: 3000, tries: 1 });
  resolver.setServers([`127.0.0.1:${server.port}`]);
});

test.after(async () => {
  await server?.close();
  await other?.close();
  await cleanup();
});

test('the cluster DNS address is the service CIDR\'s tenth', () => {
  assert.is(clusterDnsIp('10.96.0.0/16'), '10.96.0.10');
  assert.is(clusterDnsIp('127.2.0.0/16'), '127.2.0.10');
});

test('A of a ClusterIP Service; NXDOMAIN for an unknown one; NODATA for a type it lacks', async () => {
  assert.equal(await resolver.resolve4('backend.default.svc.cluster.local'), ['10.96.4.4']);
  assert.equal(await resolver.resolve4('BACKEND.default.svc.cluster.local.'), ['10.96.4.4']);
  assert.is(await code(resolver.resolve4('nope.default.svc.cluster.local')), 'ENOTFOUND');
  assert.is(await code(resolver.resolve4('backend.other.svc.cluster.local')), 'ENOTFOUND');
  assert.is(await code(resolver.resolve4('backend.default.cluster.local')), 'ENOTFOUND');
  assert.is(await code(resolver.resolve6('backend.default.svc.cluster.local')), 'ENODATA');
  assert.equal(await resolver.resolveTxt('dns-version.cluster.local'), [['1.1.0']]);
});

test('a headless Service answers with its ready pods; a pod with hostname and subdomain has its own name', async () => {
  assert.equal((await resolver.resolve4('db.default.svc.cluster.local')).sort(), ['10.244.0.7', '10.244.0.8']);
  assert.equal(await resolver.resolve4('db-0.db.default.svc.cluster.local'), ['10.244.0.7']);
  // No hostname: named by its dashed address.
  assert.equal(await resolver.resolve4('10-244-0-8.db.default.svc.cluster.local'), ['10.244.0.8']);
  // Not ready: no record until it is.
  assert.is(await code(resolver.resolve4('db-2.db.default.svc.cluster.local')), 'ENOTFOUND');
  // A ClusterIP Service has no per-pod names.
  assert.is(await code(resolver.resolve4('db-0.backend.default.svc.cluster.local')), 'ENOTFOUND');
  assert.equal(await resolver.resolve4('10-1-2-3.default.pod.cluster.local'), ['10.1.2.3']);
});

test('SRV for named ports: the Service\'s name and port, or each ready pod of a headless Service', async () => {
  assert.equal(await resolver.resolveSrv('_http._tcp.backend.default.svc.cluster.local'),
    [{ name: 'backend.default.svc.cluster.local', port: 80, priority: 0, weight: 100 }]);
  const srv = (await resolver.resolveSrv('_sql._tcp.db.default.svc.cluster.local')).sort((a, b) => a.name.localeCompare(b.name));
  assert.equal(srv, [
    { name: '10-244-0-8.db.default.svc.cluster.local', port: 5432, priority: 0, weight: 50 },
    { name: 'db-0.db.default.svc.cluster.local', port: 5432, priority: 0, weight: 50 },
  ]);
  assert.is(await code(resolver.resolveSrv('_sql._udp.db.default.svc.cluster.local')), 'ENOTFOUND');
  assert.is(await code(resolver.resolveSrv('_nope._tcp.backend.default.svc.cluster.local')), 'ENOTFOUND');
});

test('ExternalName is a CNAME, followed upstream; a ClusterIP has its PTR', async () => {
  assert.equal(await resolver.resolveCname('ext.default.svc.cluster.local'), ['example.org']);
  // Followed to its address, as CoreDNS does (stub resolvers do not chase CNAMEs).
  assert.equal(await resolver.resolve4('ext-out.default.svc.cluster.local'), ['10.1.1.1']);
  assert.equal(await resolver.reverse('10.96.4.4'), ['backend.default.svc.cluster.local']);
});

test('follows the store: a Service created is answered, a Service deleted is NXDOMAIN', async () => {
  await store.create(svc('late', { clusterIP: '10.96.9.9', clusterIPs: ['10.96.9.9'] }));
  assert.equal(await until(() => resolver.resolve4('late.default.svc.cluster.local').catch(() => undefined), 'the new Service answered'), ['10.96.9.9']);
  await store.delete('Service', 'default', 'late');
  assert.is(await until(async () => {
    const c = await code(resolver.resolve4('late.default.svc.cluster.local'));
    return c === 'ENOTFOUND' && c;
  }, 'the deleted Service gone'), 'ENOTFOUND');
});

test('a reply too big for UDP is truncated, and the client gets it whole over TCP', async () => {
  const ips = await resolver.resolve4('many.default.svc.cluster.local');
  assert.is(ips.length, 60);
  // Over UDP by hand: truncated, flagged so.
  const { default: dgram } = await import('node:dgram');
  const sock = dgram.createSocket('udp4');
  const msg: Buffer = await new Promise((resolve) => {
    sock.once('message', resolve);
    sock.send(dns.encode({ type: 'query', id: 7, flags: dns.RECURSION_DESIRED, questions: [{ type: 'A', name: 'many.default.svc.cluster.local' }] }), server.port, '127.0.0.1');
  });
  sock.close();
  const r = dns.decode(msg);
  assert.ok((r.flags ?? 0) & dns.TRUNCATED_RESPONSE);
  assert.ok(msg.length <= 512 && (r.answers?.length ?? 0) < 60);
});

test('TCP: pipelined queries on one connection, each answered, a forwarded one too', async () => {
  const s = net.connect(server.port, '127.0.0.1');
  const q = (id: number, name: string) => dns.streamEncode({ type: 'query', id, flags: dns.RECURSION_DESIRED, questions: [{ type: 'A', name }] });
  s.write(Buffer.concat([q(1, 'backend.default.svc.cluster.local'), q(2, 'nope.default.svc.cluster.local'), q(3, '10-5-5-5.x.pod.example.test')]));
  const replies = new Map<number, dns.DecodedPacket>();
  let buf = Buffer.alloc(0);
  await new Promise<void>((resolve, reject) => {
    s.on('error', reject);
    s.on('data', (c) => {
      buf = Buffer.concat([buf, c]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const p = dns.decode(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        buf = buf.subarray(2 + buf.readUInt16BE(0));
        replies.set(p.id!, p);
      }
      if (replies.size === 3) resolve();
    });
  });
  s.destroy();
  assert.equal(replies.get(1)!.answers!.map((a: any) => a.data), ['10.96.4.4']);
  assert.is((replies.get(1)!.flags ?? 0) & 15, 0);
  assert.ok((replies.get(1)!.flags ?? 0) & dns.AUTHORITATIVE_ANSWER);
  assert.is((replies.get(2)!.flags ?? 0) & 15, 3); // NXDOMAIN
  assert.equal(replies.get(2)!.authorities!.map((a) => a.type), ['SOA']);
  // Forwarded over TCP too (the upstream here answers UDP and TCP alike).
  assert.equal(replies.get(3)!.answers!.map((a: any) => a.data), ['10.5.5.5']);
});

test('other names are forwarded to the host\'s resolvers; none answering is SERVFAIL at once', async () => {
  assert.equal(await resolver.resolve4('10-9-8-7.x.pod.example.test'), ['10.9.8.7']);
  // Truncated over UDP upstream: the client comes back over TCP, and so does the forward.
  assert.is((await resolver.resolve4('big.default.svc.example.test')).length, 60);
  // No route to the only nameserver (this test runs in a network namespace of its own, or at least has no route to 203.0.113.0/24).
  const lonely = await startClusterDns({ store, address: '127.0.0.1', port: 0, nameservers: [{ host: '203.0.113.53' }], forwardTimeoutMs: 30_000 });
  try {
    const r = new Resolver({ timeout: 5000, tries: 1 });
    r.setServers([`127.0.0.1:${lonely.port}`]);
    assert.is(await code(r.resolve4('example.org')), 'ESERVFAIL');
    assert.equal(await r.resolve4('backend.default.svc.cluster.local'), ['10.96.4.4']);
  } finally {
    await lonely.close();
  }
});

test.run();
