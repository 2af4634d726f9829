import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../src/model/object.ts';
import { parseResolvConf } from '../../src/model/resolv-conf.ts';
import { podDnsConfig } from '../../src/node/pod-dns.ts';

const host = parseResolvConf('# the host\nnameserver 192.0.2.53\nnameserver 192.0.2.54 # second\ndomain old.example\nsearch corp.example lab.example\noptions timeout:2 edns0\n');
const settings = { clusterDNS: '10.96.0.10', clusterDomain: 'cluster.local', host };
const pod = (spec: Record<string, unknown> = {}, namespace = 'shop'): KubeObject =>
  ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace }, spec: { containers: [], ...spec } });

test('resolv.conf is read as glibc does: the last search/domain line wins, comments dropped', () => {
  assert.equal(host, { nameservers: ['192.0.2.53', '192.0.2.54'], searches: ['corp.example', 'lab.example'], options: ['timeout:2', 'edns0'] });
});

test('ClusterFirst (the default): the cluster DNS, the namespace\'s search path then the host\'s, ndots:5', () => {
  const want = {
    nameservers: ['10.96.0.10'],
    searches: ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'corp.example', 'lab.example'],
    options: ['ndots:5'],
  };
  assert.equal(podDnsConfig(pod(), settings), want);
  assert.equal(podDnsConfig(pod({ dnsPolicy: 'ClusterFirst' }), settings), want);
  assert.equal(podDnsConfig(pod({ dnsPolicy: 'ClusterFirstWithHostNet', hostNetwork: true }), settings), want);
});

test('Default, ClusterFirst with hostNetwork, and no cluster DNS: the host\'s', () => {
  for (const [spec, s] of [[{ dnsPolicy: 'Default' }, settings], [{ hostNetwork: true }, settings], [{}, { ...settings, clusterDNS: undefined }]] as const) {
    assert.equal(podDnsConfig(pod(spec), s), host, JSON.stringify(spec));
  }
});

test('None takes dnsConfig alone; dnsConfig is appended to the others without duplicates, options merged by name', () => {
  const dnsConfig = { nameservers: ['1.1.1.1'], searches: ['x.example'], options: [{ name: 'ndots', value: '2' }, { name: 'rotate' }] };
  assert.equal(podDnsConfig(pod({ dnsPolicy: 'None', dnsConfig }), settings), { nameservers: ['1.1.1.1'], searches: ['x.example'], options: ['ndots:2', 'rotate'] });
  assert.equal(podDnsConfig(pod({ dnsConfig: { ...dnsConfig, nameservers: ['10.96.0.10', '1.1.1.1', '8.8.8.8', '9.9.9.9'], searches: ['cluster.local'] } }), settings), {
    nameservers: ['10.96.0.10', '1.1.1.1', '8.8.8.8'], // at most 3, as glibc reads
    searches: ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'corp.example', 'lab.example'],
    options: ['ndots:2', 'rotate'],
  });
});

test.run();
