import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { deployment, load, messages } from './helpers.ts';

const DNS_LABEL = "must be a DNS-1123 label (lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters)";
const DNS_SUBDOMAIN = "must be a DNS-1123 subdomain (lower-case letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters)";
const C = 'spec.template.spec.containers[0]';

test('enums', () => {
  const r = load(deployment('          imagePullPolicy: Sometimes\n          ports: [{containerPort: 80, protocol: tcp}]\n', '  strategy: {type: BlueGreen}\n'));
  assert.equal(messages(r), [
    'spec.strategy.type: must be one of RollingUpdate, Recreate',
    `${C}.imagePullPolicy: must be one of Always, IfNotPresent, Never`,
    `${C}.ports[0].protocol: must be one of TCP, UDP, SCTP`,
  ]);
  const svc = load('apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  type: Balanced\n  ports: [{port: 80}]\n');
  assert.equal(messages(svc), ['spec.type: must be one of ClusterIP, NodePort, LoadBalancer, ExternalName']);
  assert.equal(messages(load('apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  type: LoadBalancer\n  ports: [{port: 80}]\n')), []);
});

test('ranges', () => {
  const r = load(deployment(
    '          ports: [{containerPort: 0}, {containerPort: 65536, hostPort: 70000}]\n          readinessProbe: {exec: {command: [x]}, periodSeconds: 0, timeoutSeconds: 0, failureThreshold: 0, initialDelaySeconds: -1}\n',
    '  replicas: -1\n  revisionHistoryLimit: -2\n  progressDeadlineSeconds: 0\n',
  ));
  assert.equal(messages(r), [
    'spec.replicas: must be at least 0',
    'spec.revisionHistoryLimit: must be at least 0',
    'spec.progressDeadlineSeconds: must be at least 1',
    `${C}.ports[0].containerPort: must be between 1 and 65535`,
    `${C}.ports[1].containerPort: must be between 1 and 65535`,
    `${C}.ports[1].hostPort: must be between 1 and 65535`,
    // same line: by column
    `${C}.readinessProbe.periodSeconds: must be at least 1`,
    `${C}.readinessProbe.timeoutSeconds: must be at least 1`,
    `${C}.readinessProbe.failureThreshold: must be at least 1`,
    `${C}.readinessProbe.initialDelaySeconds: must be at least 0`,
  ]);
  const svc = load('apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  type: NodePort\n  ports: [{port: 80, nodePort: 80}]\n');
  assert.equal(messages(svc), ['spec.ports[0].nodePort: must be between 30000 and 32767']);
});

test('types, with hints for quoting', () => {
  const r = load(deployment('          env: [{name: PORT, value: 8080}, {name: FLAG, value: true}]\n          ports: {containerPort: 80}\n', '  replicas: "3"\n  paused: \"yes\"\n  minReadySeconds: 1.5\n'));
  assert.equal(messages(r), [
    'spec.replicas: must be an integer, not a quoted string',
    'spec.paused: must be true or false',
    'spec.minReadySeconds: must be a whole number',
    `${C}.env[0].value: must be a string (quote it: "8080")`,
    `${C}.env[1].value: must be a string (unquoted, YAML reads it as the boolean true: quote it)`,
    `${C}.ports: must be a list`,
  ]);
});

test('required fields and non-empty lists', () => {
  assert.equal(messages(load('apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n      containers: []\n')), [
    'spec.selector: is required',
    'spec.template.spec.containers: must not be empty',
  ]);
  assert.equal(messages(load('apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n')), ['spec: is required']);
});

test('quantities', () => {
  const r = load(deployment('          resources:\n            requests: {cpu: 250m, memory: 1e3}\n            limits: {cpu: 2 cores, memory: -1Gi}\n'));
  assert.equal(messages(r), [
    `${C}.resources.limits.cpu: must be a quantity such as 250m or 128Mi`,
    `${C}.resources.limits.memory: must be a quantity such as 250m or 128Mi`,
  ]);
  assert.equal(messages(load(deployment('          resources: {requests: {cpu: 0.5, memory: 128Mi}, limits: {cpu: 1, memory: 1G}}\n'))), []);
});

test('label keys and values', () => {
  const r = load(`apiVersion: v1
kind: ConfigMap
metadata:
  name: c
  labels:
    app.kubernetes.io/name: ok
    example.com/: empty-name
    Bad_Prefix/x: v
    -leading: v
    ok: "has space"
    long: ${'a'.repeat(64)}
    empty: ""
  annotations:
    "not a key": x
    example.com/any: "any value: even long ${'x'.repeat(100)}"
`);
  const KEY = "key must be a label key: an optional DNS subdomain prefix and '/', then at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit";
  const VALUE = "must be empty or at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit";
  assert.equal(messages(r), [
    `metadata.labels["example.com/"]: ${KEY}`,
    `metadata.labels["Bad_Prefix/x"]: ${KEY}`,
    `metadata.labels["-leading"]: ${KEY}`,
    `metadata.labels.ok: ${VALUE}`,
    `metadata.labels.long: ${VALUE}`,
    `metadata.annotations["not a key"]: ${KEY}`,
  ]);
});

test('DNS names: subdomains for most kinds, labels for Namespace, Service, containers and namespaces', () => {
  assert.equal(messages(load('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: my.config-1, namespace: My_NS}\n')), [`metadata.namespace: ${DNS_LABEL}`]);
  assert.equal(messages(load('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: -bad.}\n')), [`metadata.name: ${DNS_SUBDOMAIN}`]);
  assert.equal(messages(load(`apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${'a'.repeat(254)}}\n`)), [`metadata.name: ${DNS_SUBDOMAIN}`]);
  assert.equal(messages(load('apiVersion: v1\nkind: Namespace\nmetadata: {name: my.ns}\n')), [`metadata.name: ${DNS_LABEL}`]);
  assert.equal(messages(load(`apiVersion: v1\nkind: Service\nmetadata: {name: ${'s'.repeat(64)}}\nspec: {ports: [{port: 80}]}\n`)), [`metadata.name: ${DNS_LABEL}`]);
  assert.equal(messages(load('apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: Web, image: x}]}\n')), [`spec.containers[0].name: ${DNS_LABEL}`]);
});

test('int-or-percent for rolling updates', () => {
  const strategy = (s: string, u: string) => load(deployment('', `  strategy: {rollingUpdate: {maxSurge: ${s}, maxUnavailable: ${u}}}\n`));
  assert.equal(messages(strategy('1', '"25%"')), []);
  assert.equal(messages(strategy('"0%"', '2')), []);
  const M = 'must be a non-negative integer or a percentage such as "25%"';
  assert.equal(messages(strategy('-1', '"25"')), [`spec.strategy.rollingUpdate.maxSurge: ${M}`, `spec.strategy.rollingUpdate.maxUnavailable: ${M}`]);
  assert.equal(messages(strategy('1.5', '"x%"')), [`spec.strategy.rollingUpdate.maxSurge: ${M}`, `spec.strategy.rollingUpdate.maxUnavailable: ${M}`]);
});

test('ports by number or IANA name', () => {
  const svc = (t: string) => messages(load(`apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 80, targetPort: ${t}}]}\n`));
  assert.equal(svc('8080'), []);
  assert.equal(svc('http'), []);
  const M = 'spec.ports[0].targetPort: must be a port number (1-65535) or a port name';
  assert.equal(svc('0'), [], 'targetPort 0 means the port, as the API server defaults it');
  assert.equal(svc('-1'), [M]);
  assert.equal(svc('70000'), [M]);
  assert.equal(svc('HTTP'), [M]);
  assert.equal(svc('a-very-long-port-name'), [M]);
  assert.equal(svc('"123"'), [M]);
  const named = messages(load(deployment('          ports: [{name: web--http, containerPort: 80}, {name: "8080", containerPort: 81}]\n')));
  const N = "must be a port name (at most 15 lower-case letters, digits and '-', with at least one letter)";
  assert.equal(named, [`${C}.ports[0].name: ${N}`, `${C}.ports[1].name: ${N}`]);
});

test('base64 data, config keys and cluster IPs', () => {
  const secret = messages(load('apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata:\n  ok: aGVsbG8=\n  wrapped: |\n    aGVs\n    bG8=\n  bad: not base64!\n  "bad key": eA==\n'));
  assert.equal(secret, ['data.bad: must be base64-encoded', `data["bad key"]: key must be a key of at most 253 letters, digits, '-', '_' and '.', other than '.' and not starting with '..'`]);
  const cm = messages(load('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: 1}\nbinaryData: {b: "%%"}\nimmutable: "yes"\n'));
  assert.equal(cm, ['data.a: must be a string (quote it: "1")', 'binaryData.b: must be base64-encoded', 'immutable: must be true or false']);
  const ip = (v: string) => messages(load(`apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {clusterIP: "${v}", ports: [{port: 80}]}\n`));
  assert.equal(ip('10.0.0.1'), []);
  assert.equal(ip('None'), []);
  assert.equal(ip('fd00::1'), []);
  assert.equal(ip('10.0.0.300'), ['spec.clusterIP: must be an IP address or "None"']);
});

test('selectors: operators and keys', () => {
  const r = load(deployment('', '').replace('matchLabels: {app: web}', 'matchLabels: {app: web}\n    matchExpressions: [{key: tier, operator: Like, values: [a]}]'));
  assert.equal(messages(r), ['spec.selector.matchExpressions[0].operator: must be one of In, NotIn, Exists, DoesNotExist']);
});

test.run();
