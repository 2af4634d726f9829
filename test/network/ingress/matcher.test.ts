// The ingress route table and matcher against the Ingress specification's own examples
// (https://kubernetes.io/docs/concepts/services-networking/ingress/#examples and #hostname-wildcards).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hostMatches, matchRequest, normalizeHost, pathMatches, type PathType } from '../../../src/network/ingress/matcher.ts';
import { ingressRoutes, ingressTls, servicePortName } from '../../../src/network/ingress/routes.ts';
import type { KubeObject } from '../../../src/model/object.ts';

const rule = (path: string, pathType: PathType) => ({ path, pathType });

test('Prefix matches element by element, ignoring a trailing slash; Exact matches the path itself', () => {
  const cases: [string, PathType, string, boolean][] = [
    ['/', 'Prefix', '/anything/at/all', true],
    ['/foo', 'Exact', '/foo', true], ['/foo', 'Exact', '/bar', false], ['/foo', 'Exact', '/foo/', false], ['/foo/', 'Exact', '/foo', false],
    ['/foo', 'Prefix', '/foo', true], ['/foo', 'Prefix', '/foo/', true], ['/foo/', 'Prefix', '/foo', true], ['/foo/', 'Prefix', '/foo/', true],
    ['/aaa/bb', 'Prefix', '/aaa/bbb', false], ['/aaa/bbb', 'Prefix', '/aaa/bbb', true], ['/aaa/bbb/', 'Prefix', '/aaa/bbb', true],
    ['/aaa/bbb', 'Prefix', '/aaa/bbb/', true], ['/aaa/bbb', 'Prefix', '/aaa/bbb/ccc', true], ['/aaa/bbb', 'Prefix', '/aaa/bbbxyz', false],
    ['/aaa', 'Prefix', '/ccc', false], ['/Foo', 'Prefix', '/foo', false],
    // ImplementationSpecific is convergit's Prefix; an empty path is '/'.
    ['/api', 'ImplementationSpecific', '/api/v1', true], ['/api', 'ImplementationSpecific', '/apiv1', false], ['', 'ImplementationSpecific', '/x', true],
  ];
  for (const [path, type, req, want] of cases) assert.is(pathMatches(rule(path, type), req), want, `${type} ${path} vs ${req}`);
});

test('a wildcard host matches exactly one more label; hosts are matched without port, case or trailing dot', () => {
  assert.ok(hostMatches('*.foo.com', 'bar.foo.com'));
  assert.not.ok(hostMatches('*.foo.com', 'baz.bar.foo.com'));
  assert.not.ok(hostMatches('*.foo.com', 'foo.com'));
  assert.ok(hostMatches('foo.bar.com', 'foo.bar.com'));
  assert.not.ok(hostMatches('foo.bar.com', 'x.foo.bar.com'));
  assert.equal(['Foo.COM:8080', 'foo.com.', '[::1]:80', undefined].map(normalizeHost), ['foo.com', 'foo.com', '[::1]', '']);
});

let seq = 0;
const ingress = (name: string, spec: Record<string, unknown>, created = `2026-01-01T00:00:0${seq++}Z`): KubeObject =>
  ({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name, namespace: 'default', creationTimestamp: created }, spec });
const path = (p: string, pathType: PathType, service: string, port: Record<string, unknown> = { number: 80 }) => ({ path: p, pathType, backend: { service: { name: service, port } } });

const table = ingressRoutes([
  ingress('main', {
    defaultBackend: { service: { name: 'main-default', port: { number: 80 } } },
    rules: [
      { host: 'foo.bar.com', http: { paths: [path('/', 'Prefix', 'root'), path('/aaa', 'Prefix', 'aaa'), path('/aaa/bbb', 'Prefix', 'aaa-bbb'), path('/aaa/bbb', 'Exact', 'exact-bbb')] } },
      { host: '*.foo.com', http: { paths: [path('/', 'Prefix', 'wild', { name: 'http' })] } },
      { http: { paths: [path('/any', 'Prefix', 'any-host')] } },
    ],
  }),
  // Newer: loses ties on the same host and path, adds its own paths to foo.bar.com.
  ingress('later', {
    rules: [{ host: 'foo.bar.com', http: { paths: [path('/aaa', 'Prefix', 'later-aaa'), path('/zzz', 'Exact', 'later-zzz')] } }],
  }),
  ingress('catch-all', { defaultBackend: { service: { name: 'late-default', port: { number: 80 } } } }),
]);
const to = (host: string | undefined, p: string) => matchRequest(table, host, p)?.backend.service ?? '404';

test('the longest matching path wins, Exact over Prefix at equal length, the older Ingress on a tie', () => {
  assert.is(to('foo.bar.com', '/aaa/bbb'), 'exact-bbb');
  assert.is(to('foo.bar.com', '/aaa/bbb/'), 'aaa-bbb');
  assert.is(to('foo.bar.com', '/aaa/bbb/ccc?q=1'), 'aaa-bbb');
  assert.is(to('foo.bar.com', '/aaa/ccc'), 'aaa');
  assert.is(to('foo.bar.com', '/ccc'), 'root');
  assert.is(to('foo.bar.com:80', '/zzz'), 'later-zzz', 'rules of several Ingresses for one host merge');
});

test('precise host, then wildcard, then host-less rules; no match goes to a defaultBackend, else 404', () => {
  assert.is(to('x.foo.com', '/'), 'wild');
  assert.is(matchRequest(table, 'x.foo.com', '/')?.backend.port.name, 'http');
  assert.is(to('a.x.foo.com', '/any/thing'), 'any-host', 'one label only: falls to the host-less rules');
  assert.is(to('a.x.foo.com', '/other'), 'main-default', 'the oldest defaultBackend catches what no rule takes');
  assert.is(to(undefined, '/any'), 'any-host');
  const noDefault = ingressRoutes([ingress('only', { rules: [{ host: 'a.com', http: { paths: [path('/x', 'Exact', 'x')] } }] })]);
  assert.is(matchRequest(noDefault, 'a.com', '/y'), undefined);
  assert.is(matchRequest(noDefault, 'b.com', '/x'), undefined, 'another host: no rule, no default');
  const hostDefault = ingressRoutes([
    ingress('a', { defaultBackend: { service: { name: 'a-default', port: { number: 80 } } }, rules: [{ host: 'a.com', http: { paths: [path('/x', 'Exact', 'x')] } }] }),
    ingress('b', { rules: [{ host: 'b.com', http: { paths: [path('/x', 'Exact', 'x')] } }] }),
  ]);
  assert.is(matchRequest(hostDefault, 'a.com', '/y')?.backend.service, 'a-default');
  assert.is(matchRequest(hostDefault, 'b.com', '/y')?.backend.service, 'a-default', 'the catch-all defaultBackend');
});

test('TLS: a Secret per host, the older Ingress keeps a host; entries without hosts are the fallback; Service ports by number or name', () => {
  const t = ingressTls([
    ingress('new', { tls: [{ hosts: ['A.com'], secretName: 'new' }, { secretName: 'any' }] }, '2026-02-01T00:00:00Z'),
    ingress('old', { tls: [{ hosts: ['a.com', '*.b.com'], secretName: 'old' }] }, '2026-01-01T00:00:00Z'),
  ]);
  assert.equal(Object.fromEntries([...t.hosts].map(([h, e]) => [h, e.secret])), { 'a.com': 'default/old', '*.b.com': 'default/old' });
  assert.equal(t.fallback, { secret: 'default/any', ingress: 'default/new' });
  const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { ports: [{ name: 'http', port: 80 }, { name: 'admin', port: 9000 }] } } as KubeObject;
  assert.equal([servicePortName(svc, { number: 9000 }), servicePortName(svc, { name: 'http' }), servicePortName(svc, { number: 81 }), servicePortName(undefined, { number: 80 })],
    ['admin', 'http', undefined, undefined]);
});

test.run();
