// The files a process pod mounts over /etc: real files in a temporary folder.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeObject } from '../../src/model/object.ts';
import { parseResolvConf } from '../../src/model/resolv-conf.ts';
import { writePodEtcFiles } from '../../src/node/pod-etc-files.ts';
import { podHostname } from '../../src/node/pod-hosts.ts';

const host = parseResolvConf('nameserver 192.0.2.53\nsearch corp.example\n');
const dns = { clusterDNS: '127.2.0.10', clusterDomain: 'cluster.local', host };
const pod = (spec: Record<string, unknown> = {}, name = 'web-1'): KubeObject =>
  ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'shop' }, spec: { containers: [], ...spec } });
let dir: string;
test.before.each(() => { dir = mkdtempSync(join(tmpdir(), 'procdns-etc-')); });
test.after.each(() => rmSync(dir, { recursive: true, force: true }));

test('ClusterFirst: the kubelet\'s resolv.conf and /etc/hosts with the pod\'s address and name', async () => {
  const files = await writePodEtcFiles(dir, pod(), '127.1.0.7', dns);
  assert.equal(files, { resolvConf: join(dir, 'resolv.conf'), hosts: join(dir, 'hosts') });
  assert.is(readFileSync(files.resolvConf!, 'utf8'),
    'nameserver 127.2.0.10\nsearch shop.svc.cluster.local svc.cluster.local cluster.local corp.example\noptions ndots:5\n');
  const hosts = readFileSync(files.hosts!, 'utf8');
  assert.ok(hosts.startsWith('# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n'), hosts);
  assert.ok(hosts.endsWith('fe00::2\tip6-allrouters\n127.1.0.7\tweb-1\n'), hosts);
  assert.is(statSync(files.hosts!).mode & 0o777, 0o644);
});

test('hostname and subdomain give the FQDN line, as for a StatefulSet\'s pod', async () => {
  const files = await writePodEtcFiles(dir, pod({ hostname: 'db-0', subdomain: 'peers' }, 'db-0'), '127.1.0.8', dns);
  assert.ok(readFileSync(files.hosts!, 'utf8').endsWith('\n127.1.0.8\tdb-0.peers.shop.svc.cluster.local\tdb-0\n'));
});

test('dnsPolicy Default writes no resolv.conf (the host\'s is read); a host-network pod keeps the host\'s /etc/hosts', async () => {
  assert.equal(await writePodEtcFiles(dir, pod({ dnsPolicy: 'Default' }), '127.1.0.7', dns), { hosts: join(dir, 'hosts') });
  // ClusterFirst on the host's network is Default too; ClusterFirstWithHostNet is not.
  assert.equal(await writePodEtcFiles(dir, pod({ hostNetwork: true }), '127.1.0.7', dns), {});
  assert.equal(await writePodEtcFiles(dir, pod({ hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' }), '127.1.0.7', dns), { resolvConf: join(dir, 'resolv.conf') });
});

test('hostAliases follow the pod\'s line; a host-network pod with them gets the node\'s file and them', async () => {
  const aliases = [{ ip: '10.1.2.3', hostnames: ['foo.remote', 'bar.remote'] }];
  const own = await writePodEtcFiles(dir, pod({ hostAliases: aliases }), '127.1.0.7', dns);
  assert.ok(readFileSync(own.hosts!, 'utf8').endsWith('\n127.1.0.7\tweb-1\n\n# Entries added by HostAliases.\n10.1.2.3\tfoo.remote\tbar.remote\n'));
  const hostNet = await writePodEtcFiles(dir, pod({ hostNetwork: true, hostAliases: aliases }), '127.1.0.7', dns);
  assert.is(readFileSync(hostNet.hosts!, 'utf8'),
    `# Kubernetes-managed hosts file (host network).\n${readFileSync('/etc/hosts', 'utf8')}\n# Entries added by HostAliases.\n10.1.2.3\tfoo.remote\tbar.remote\n`);
});

test('the kernel hostname: short, or the FQDN with setHostnameAsFQDN and a subdomain; past 64 characters refused', () => {
  assert.is(podHostname(pod({ subdomain: 'peers' }), 'cluster.local'), 'web-1');
  assert.is(podHostname(pod({ subdomain: 'peers', setHostnameAsFQDN: true }), 'cluster.local'), 'web-1.peers.shop.svc.cluster.local');
  assert.is(podHostname(pod({ setHostnameAsFQDN: true }), 'cluster.local'), 'web-1', 'no subdomain: no FQDN');
  assert.is(podHostname(pod({}, `${'a'.repeat(70)}-`), 'cluster.local'), 'a'.repeat(63), 'the name cut to 63');
  assert.throws(() => podHostname(pod({ subdomain: 'peers', setHostnameAsFQDN: true }, 'a'.repeat(40)), 'cluster.local'),
    /setHostnameAsFQDN: the FQDN a+\.peers\.shop\.svc\.cluster\.local is too long \(64 characters is the max, 69 requested\)/);
});

test('unchanged text is not written again: a running container\'s bind mount keeps the file', async () => {
  const first = await writePodEtcFiles(dir, pod(), '127.1.0.7', dns);
  utimesSync(first.hosts!, 1, 1); // a write would make it now
  const before = statSync(first.hosts!);
  await writePodEtcFiles(dir, pod(), '127.1.0.7', dns);
  assert.is(statSync(first.hosts!).mtimeMs, 1000);
  await writePodEtcFiles(dir, pod(), '127.1.0.9', dns);
  const after = statSync(first.hosts!);
  assert.is(after.ino, before.ino, 'written in place, not replaced');
  assert.match(readFileSync(first.hosts!, 'utf8'), /^127\.1\.0\.9\tweb-1$/m);
});

test.run();
