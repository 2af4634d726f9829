import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../src/model/object.ts';
import { ConfigError, containerEnv, containerEnvParts, envOf, envView, type EnvSources } from '../../src/node/env.ts';
import { expand } from '../../src/node/expand.ts';
import { serviceEnv, serviceVarsOf } from '../../src/node/service-env.ts';
import { containerArgv, containerCwd } from '../../src/node/command.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const cm = (name: string, data: Record<string, string>): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data });
const secret = (name: string, data: Record<string, string>): KubeObject => ({
  apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'default' }, data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])),
});
const svc = (name: string, clusterIP: string | undefined, ports: Record<string, unknown>[]): KubeObject => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { clusterIP, ports },
});

const pod: KubeObject = {
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name: 'web-abc', namespace: 'default', uid: 'u-1', labels: { app: 'web', 'app.kubernetes.io/tier': 'front' }, annotations: { note: 'n' } },
  spec: { nodeName: 'node-a', containers: [] },
};

const sources = (over: Partial<EnvSources> = {}): EnvSources => ({
  configMaps: new Map([['greeting', cm('greeting', { message: 'hello', LEVEL: 'debug', 'bad key': 'x' })]]),
  secrets: new Map([['db', secret('db', { password: 's3cr3t', USER: 'admin' })]]),
  services: [],
  podIP: '127.1.0.7',
  hostIP: '127.0.0.1',
  allocatable: { cpu: 4, memory: 8 * 2 ** 30 },
  host: { PATH: '/usr/bin', HOME: '/root' },
  ...over,
});

test('value, configMapKeyRef, secretKeyRef (decoded) and fieldRef resolve as in Kubernetes', () => {
  const env = containerEnv(pod, {
    name: 'c',
    env: [
      { name: 'PLAIN', value: 'x' },
      { name: 'GREETING', valueFrom: { configMapKeyRef: { name: 'greeting', key: 'message' } } },
      { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
      { name: 'MY_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'MY_NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
      { name: 'MY_UID', valueFrom: { fieldRef: { fieldPath: 'metadata.uid' } } },
      { name: 'TIER', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app.kubernetes.io/tier']" } } },
      { name: 'NOTE', valueFrom: { fieldRef: { fieldPath: "metadata.annotations['note']" } } },
      { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
      { name: 'SA', valueFrom: { fieldRef: { fieldPath: 'spec.serviceAccountName' } } },
      { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
      { name: 'HOST', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
    ],
  }, sources());
  assert.equal(
    { ...env },
    {
      PATH: '/usr/bin', HOME: '/root', POD_IP: '127.1.0.7',
      PLAIN: 'x', GREETING: 'hello', DB_PASSWORD: 's3cr3t', MY_NAME: 'web-abc', MY_NS: 'default', MY_UID: 'u-1',
      TIER: 'front', NOTE: 'n', NODE: 'node-a', SA: 'default', IP: '127.1.0.7', HOST: '127.0.0.1',
      CONVERGIT_POD_UID: 'u-1',
    },
  );
});

test('envFrom with prefix comes first, explicit env wins, invalid keys are skipped, $(VAR) sees earlier vars', () => {
  const env = containerEnv(pod, {
    name: 'c',
    envFrom: [{ configMapRef: { name: 'greeting' } }, { prefix: 'DB_', secretRef: { name: 'db' } }],
    env: [
      { name: 'LEVEL', value: 'info' },
      { name: 'URL', value: 'postgres://$(DB_USER):$(DB_password)@$(POD_IP)/$(UNKNOWN)/$$(ESCAPED)' },
      { name: 'LATER', value: 'x' },
    ],
  }, sources());
  assert.is(env.LEVEL, 'info', 'explicit env overrides envFrom');
  assert.is(env.message, 'hello');
  assert.is(env['bad key'], undefined, 'not a valid env var name');
  assert.is(env.URL, 'postgres://admin:s3cr3t@127.1.0.7/$(UNKNOWN)/$(ESCAPED)');
});

test('missing references are CreateContainerConfigError messages unless optional', () => {
  const run = (e: unknown) => () => containerEnv(pod, { name: 'c', ...(e as object) }, sources());
  assert.throws(run({ env: [{ name: 'A', valueFrom: { configMapKeyRef: { name: 'nope', key: 'k' } } }] }), (e: Error) => e instanceof ConfigError && e.message === 'configmap "nope" not found');
  assert.throws(run({ env: [{ name: 'A', valueFrom: { configMapKeyRef: { name: 'greeting', key: 'k' } } }] }), (e: Error) => e.message === "couldn't find key k in ConfigMap default/greeting");
  assert.throws(run({ env: [{ name: 'A', valueFrom: { secretKeyRef: { name: 'nope', key: 'k' } } }] }), (e: Error) => e.message === 'secret "nope" not found');
  assert.throws(run({ envFrom: [{ secretRef: { name: 'nope' } }] }), (e: Error) => e.message === 'secret "nope" not found');
  const env = containerEnv(pod, {
    name: 'c',
    env: [
      { name: 'A', valueFrom: { configMapKeyRef: { name: 'nope', key: 'k', optional: true } } },
      { name: 'B', valueFrom: { secretKeyRef: { name: 'db', key: 'k', optional: true } } },
    ],
    envFrom: [{ configMapRef: { name: 'nope', optional: true } }],
  }, sources());
  assert.not.ok('A' in env || 'B' in env);
});

test('Service variables follow Kubernetes naming and never override explicit env', () => {
  const services = [
    svc('backend-api', '127.2.0.5', [{ name: 'http', port: 9000 }, { name: 'metrics-port', port: 9100, protocol: 'UDP' }]),
    svc('headless', 'None', [{ port: 80 }]),
    svc('unallocated', undefined, [{ port: 80 }]),
  ];
  assert.equal(serviceEnv(services), [
    ['BACKEND_API_SERVICE_HOST', '127.2.0.5'],
    ['BACKEND_API_SERVICE_PORT', '9000'],
    ['BACKEND_API_SERVICE_PORT_HTTP', '9000'],
    ['BACKEND_API_SERVICE_PORT_METRICS_PORT', '9100'],
    ['BACKEND_API_PORT', 'tcp://127.2.0.5:9000'],
    ['BACKEND_API_PORT_9000_TCP', 'tcp://127.2.0.5:9000'],
    ['BACKEND_API_PORT_9000_TCP_PROTO', 'tcp'],
    ['BACKEND_API_PORT_9000_TCP_PORT', '9000'],
    ['BACKEND_API_PORT_9000_TCP_ADDR', '127.2.0.5'],
    ['BACKEND_API_PORT_9100_UDP', 'udp://127.2.0.5:9100'],
    ['BACKEND_API_PORT_9100_UDP_PROTO', 'udp'],
    ['BACKEND_API_PORT_9100_UDP_PORT', '9100'],
    ['BACKEND_API_PORT_9100_UDP_ADDR', '127.2.0.5'],
  ]);
  const env = containerEnv(pod, { name: 'c', env: [{ name: 'BACKEND_API_SERVICE_HOST', value: 'mine' }, { name: 'U', value: '$(BACKEND_API_SERVICE_PORT)' }] }, sources({ services }));
  assert.is(env.BACKEND_API_SERVICE_HOST, 'mine');
  assert.is(env.U, '9000', 'env values may refer to service variables');
  assert.is(env.BACKEND_API_PORT, 'tcp://127.2.0.5:9000');
  const off = containerEnv({ ...pod, spec: { ...pod.spec, enableServiceLinks: false } }, { name: 'c' }, sources({ services }));
  assert.is(off.BACKEND_API_SERVICE_HOST, undefined, 'enableServiceLinks: false');
});

test('POD_IP is always set and may be overridden; CONVERGIT_POD_UID may not', () => {
  const env = containerEnv(pod, { name: 'c', env: [{ name: 'POD_IP', value: 'x' }, { name: 'CONVERGIT_POD_UID', value: 'fake' }] }, sources());
  assert.is(env.POD_IP, 'x');
  assert.is(env.CONVERGIT_POD_UID, 'u-1');
});

test('resourceFieldRef reports limits (node allocatable when unset) rounded up by divisor', () => {
  const env = containerEnv(pod, {
    name: 'c',
    resources: { limits: { memory: '128Mi' }, requests: { cpu: '250m' } },
    env: [
      { name: 'MEM', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
      { name: 'CPU', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } },
      { name: 'REQ', valueFrom: { resourceFieldRef: { resource: 'requests.cpu', divisor: '1m' } } },
    ],
  }, sources());
  assert.equal([env.MEM, env.CPU, env.REQ], ['128', '4', '250']);
});

test('$(VAR) expansion: Kubernetes escaping rules', () => {
  const vars: Record<string, string> = { A: 'a', EMPTY: '' };
  const x = (s: string) => expand(s, (n) => vars[n]);
  assert.is(x('$(A)-$(EMPTY)-$(B)'), 'a--$(B)');
  assert.is(x('$$(A) $$ $ $x $(A'), '$(A) $ $ $x $(A');
  assert.is(x('tail$'), 'tail$');
  assert.is(x('$()'), '$()');
});

test('argv: command then args, expanded; no command is a clear config error; workingDir is relative to the image', () => {
  assert.equal(containerArgv({ name: 'c', command: ['node', '$(SCRIPT)'], args: ['--port=$(PORT)', '$$(PORT)'] }, { SCRIPT: 's.js', PORT: '80' }), ['node', 's.js', '--port=80', '$(PORT)']);
  assert.throws(() => containerArgv({ name: 'web', args: ['x'] }, {}), (e: Error) => e instanceof ConfigError && /container "web" has no command/.test(e.message));
  assert.is(containerCwd(undefined, '/img'), '/img');
  assert.is(containerCwd('app', '/img'), '/img/app');
  assert.is(containerCwd('/srv', '/img'), '/srv');
});

test('a namespace\'s Service variables are made once for the same Services and shared; a container keeps only its own', () => {
  const a = svc('a', '127.2.0.1', [{ port: 80 }]), b = svc('b', '127.2.0.2', [{ port: 81 }]);
  const first = serviceVarsOf([a, b]);
  assert.is(serviceVarsOf([a, b]), first, 'the same objects: the same variables, not a copy');
  const changed = { ...b, spec: { ...b.spec, clusterIP: '127.2.0.9' } };
  const next = serviceVarsOf([a, changed]);
  assert.is.not(next, first, 'a Service changed (a new object): made again');
  assert.is(next.byName.get('B_SERVICE_HOST'), '127.2.0.9');
  assert.is(serviceVarsOf([a]).byName.get('B_SERVICE_HOST'), undefined, 'one gone: made again');
  assert.is(serviceVarsOf([]).byName.size, 0);

  const container = { name: 'c', env: [{ name: 'A_SERVICE_HOST', value: 'mine' }, { name: 'U', value: '$(B_SERVICE_PORT)' }] };
  const one = containerEnvParts(pod, container, sources({ services: [a, changed] }));
  const two = containerEnvParts(pod, container, sources({ services: [a, changed] }));
  assert.is(one.services, two.services, 'two containers share their namespace\'s variables');
  assert.not.ok('B_SERVICE_HOST' in one.own, 'a container\'s own variables leave them out');
  assert.is(one.own.U, '81', 'its own may refer to them');
  const whole = envOf(one);
  assert.equal(whole, containerEnv(pod, container, sources({ services: [a, changed] })));
  assert.is(whole.A_SERVICE_HOST, 'mine', 'its own win over the Service\'s');
  assert.is(whole.B_SERVICE_HOST, '127.2.0.9');

  // A launch's env is a view of the parts: every way of reading it sees the whole env, in envOf's order.
  const view = envView(one);
  assert.equal(Object.keys(view), Object.keys(whole), 'own first, then the Service variables it does not define');
  assert.equal(JSON.parse(JSON.stringify(view)), whole, 'JSON (pids.json) sees the whole env');
  assert.equal({ ...view }, whole, 'so does a spread');
  assert.equal(view, whole, 'and a deep comparison (its constructor reads as a plain object\'s)');
  assert.is(view.A_SERVICE_HOST, 'mine');
  assert.is(view.B_SERVICE_HOST, '127.2.0.9');
  assert.is(view.NOT_SET, undefined);
  assert.ok('B_SERVICE_HOST' in view && Object.prototype.hasOwnProperty.call(view, 'U') && !Object.hasOwn(view, 'NOT_SET'));
  assert.equal(Object.entries(view), Object.entries(whole));
  assert.throws(() => { 'use strict'; (view as any).U = 'changed'; }, (e: unknown) => e instanceof TypeError, 'read-only');
  assert.throws(() => Object.freeze(view), (e: unknown) => e instanceof TypeError, 'nor frozen');
  assert.equal(Object.keys(view), Object.keys(whole), 'and still whole after the attempt');
  assert.is(view.U, '81');
  assert.equal(containerArgv({ name: 'c', command: ['echo', '$(B_SERVICE_HOST)', '$(U)'] }, view), ['echo', '127.2.0.9', '81'], '$(VAR) reads through it');
  // Views share their traps: each still reads its own parts.
  const other = envView(containerEnvParts(pod, { name: 'd', env: [{ name: 'U', value: 'other' }] }, sources({ services: [a] })));
  assert.is(other.U, 'other');
  assert.is(other.A_SERVICE_HOST, '127.2.0.1');
  assert.not.ok('B_SERVICE_HOST' in other);
  assert.is(view.U, '81');
  assert.equal(Object.getOwnPropertySymbols({ ...view }), [], 'what the parts ride on is not a variable');
  assert.equal(Object.getOwnPropertySymbols(view).map((k) => [k in view, (view as any)[k]]), [], 'nor reads as one');
});

test.run();
