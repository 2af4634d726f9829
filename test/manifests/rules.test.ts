import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { brief, deployment, load, messages } from './helpers.ts';

const C = 'spec.template.spec.containers[0]';

test('container names unique; port names unique per container', () => {
  const r = load('apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - {name: a, image: x, ports: [{name: http, containerPort: 1}, {name: http, containerPort: 2}]}\n    - {name: a, image: z}\n');
  assert.equal(messages(r), ['spec.containers[0].ports[1].name: duplicate port name "http"', 'spec.containers[1].name: duplicate container name "a"']);
});

test('probes: exactly one handler, named ports must exist, liveness successThreshold 1', () => {
  const r = load(deployment(
    '          ports: [{name: http, containerPort: 80}]\n' +
    '          readinessProbe: {periodSeconds: 5}\n' +
    '          livenessProbe: {httpGet: {port: http}, exec: {command: [x]}, successThreshold: 2}\n' +
    '          startupProbe: {tcpSocket: {port: grpc}}\n',
  ));
  assert.equal(messages(r), [
    `${C}.readinessProbe: must set one of httpGet, tcpSocket, exec or grpc`,
    `${C}.livenessProbe.exec: may not be set together with httpGet; a probe has one handler`,
    `${C}.livenessProbe.successThreshold: must be 1 for liveness and startup probes`,
    `${C}.startupProbe.tcpSocket.port: names no port of this container ("grpc")`,
  ]);
});

test('env: value or valueFrom, one source; envFrom: one source', () => {
  const r = load(deployment(
    '          env:\n' +
    '            - {name: A, value: x, valueFrom: {fieldRef: {fieldPath: metadata.name}}}\n' +
    '            - {name: B, valueFrom: {configMapKeyRef: {name: c, key: k}, secretKeyRef: {name: s, key: k}}}\n' +
    '            - {name: C, valueFrom: {secretKeyRef: {name: s}}}\n' +
    '          envFrom: [{prefix: X_}]\n',
  ));
  assert.equal(messages(r), [
    `${C}.env[0].valueFrom: may not be set together with value`,
    `${C}.env[1].valueFrom: must set exactly one of configMapKeyRef, secretKeyRef, fieldRef or resourceFieldRef`,
    `${C}.env[2].valueFrom.secretKeyRef.key: is required`,
    `${C}.envFrom[0]: must set exactly one of configMapRef or secretRef`,
  ]);
});

test('DNS: None needs dnsConfig with a nameserver; at most 3 nameservers, IPs; searches are subdomains; subdomain a label', () => {
  const pod = (spec: string) => load(`apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: a, image: x}]\n${spec}`);
  assert.equal(messages(pod('  dnsPolicy: None\n')), ['spec.dnsConfig: must be given when dnsPolicy is None']);
  assert.equal(messages(pod('  dnsPolicy: None\n  dnsConfig: {searches: [a.example]}\n')), ['spec.dnsConfig.nameservers: must name at least one nameserver when dnsPolicy is None']);
  assert.equal(messages(pod('  hostname: web-1\n  subdomain: Db_x\n  dnsConfig: {nameservers: [1.1.1.1, 8.8.8.8, 9.9.9.9, dns.example], searches: [ok.example., Bad_Domain]}\n')), [
    "spec.subdomain: must be a DNS-1123 label (lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters)",
    'spec.dnsConfig.nameservers: must not have more than 3 nameservers (has 4)',
    'spec.dnsConfig.nameservers[3]: must be an IP address, not "dns.example"',
    "spec.dnsConfig.searches[1]: must be a DNS-1123 subdomain (lower-case letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters)",
  ]);
  assert.equal(messages(pod('  dnsPolicy: None\n  dnsConfig: {nameservers: [10.96.0.10], options: [{name: ndots, value: "2"}]}\n')), []);
  // hostAliases, as validateHostAliases: an IP (v4 or v6) and DNS subdomains; hostname a label.
  assert.equal(messages(pod('  hostname: Web_1\n  hostAliases: [{ip: 10.1.2.3, hostnames: [foo.remote, bar]}, {ip: "::1", hostnames: [six]}, {ip: foo, hostnames: [Bad_Name]}]\n')), [
    "spec.hostname: must be a DNS-1123 label (lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters)",
    'spec.hostAliases[2].ip: must be an IP address, not "foo"',
    "spec.hostAliases[2].hostnames[0]: must be a DNS-1123 subdomain (lower-case letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters)",
  ]);
});

test('requests must not exceed limits', () => {
  const r = load(deployment('          resources: {requests: {cpu: 1500m, memory: 1Gi}, limits: {cpu: "1", memory: 2Gi}}\n'));
  assert.equal(messages(r), [`${C}.resources.requests.cpu: must not exceed the limit (1)`]);
});

test('Deployment: selector, template restartPolicy, strategy and deadlines', () => {
  const noSelector = load(deployment('', '').replace('matchLabels: {app: web}', 'matchLabels: {}'));
  assert.equal(messages(noSelector), ['spec.selector: must not be empty: a Deployment selects its pods by label']);
  const exprs = load(deployment('', '').replace('matchLabels: {app: web}', 'matchExpressions: [{key: app, operator: In}, {key: x, operator: Exists, values: [v]}]'));
  assert.equal(messages(exprs), ['spec.selector.matchExpressions[0].values: must not be empty for In', 'spec.selector.matchExpressions[1].values: must be empty for Exists']);
  const matched = load(deployment('', '').replace('matchLabels: {app: web}', 'matchExpressions: [{key: app, operator: In, values: [web, api]}, {key: old, operator: DoesNotExist}]'));
  assert.equal(messages(matched), []);
  const rp = load(deployment('', '').replace('containers:', 'restartPolicy: Never\n      containers:'));
  assert.equal(messages(rp), ['spec.template.spec.restartPolicy: must be Always in a Deployment template']);
  const strategy = load(deployment('', '  strategy: {type: Recreate, rollingUpdate: {maxSurge: 1}}\n  minReadySeconds: 30\n  progressDeadlineSeconds: 30\n'));
  assert.equal(messages(strategy), ['spec.strategy.rollingUpdate: may not be set when type is Recreate', 'spec.progressDeadlineSeconds: must be greater than minReadySeconds']);
  const zero = load(deployment('', '  strategy: {rollingUpdate: {maxSurge: 0, maxUnavailable: "0%"}}\n'));
  assert.equal(messages(zero), ['spec.strategy.rollingUpdate.maxUnavailable: may not be 0 when maxSurge is 0']);
  const over = load(deployment('', '  strategy: {rollingUpdate: {maxUnavailable: "150%"}}\n'));
  assert.equal(messages(over), ['spec.strategy.rollingUpdate.maxUnavailable: must not be more than 100%']);
});

test('ReplicaSet selector must match its template', () => {
  const r = load('apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: r}\nspec:\n  selector: {matchLabels: {app: a}}\n  template: {spec: {containers: [{name: c, image: c}]}}\n');
  assert.equal(brief(r), ['error 5:3 spec.selector: does not match the template labels (spec.template.metadata.labels)']);
});

test('Service: port names when several, unique ports, nodePort only for NodePort', () => {
  const r = load('apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  clusterIP: None\n  ports:\n    - {port: 80, nodePort: 30001}\n    - {name: b, port: 80}\n    - {name: b, port: 81, protocol: UDP}\n');
  assert.equal(brief(r), [
    'error 7:7 spec.ports[0].name: is required when a Service has more than one port',
    'error 7:18 spec.ports[0].nodePort: may only be set when type is NodePort or LoadBalancer',
    'error 8:17 spec.ports[1].port: duplicate port "80/TCP"',
    'error 9:8 spec.ports[2].name: duplicate port name "b"',
  ]);
  const headless = load('apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {type: NodePort, clusterIP: None, ports: [{port: 80}]}\n');
  assert.equal(messages(headless), ['spec.clusterIP: may not be "None" when type is NodePort']);
});

test('ConfigMap keys may not repeat across data and binaryData', () => {
  const r = load('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: x}\nbinaryData: {a: eA==}\n');
  assert.equal(messages(r), ['binaryData.a: duplicates key "a" of data']);
});

test('a namespace on a Namespace is a warning and is dropped', () => {
  const r = load('apiVersion: v1\nkind: Namespace\nmetadata: {name: ns1, namespace: other}\n');
  assert.equal(brief(r), ['warning 3:23 metadata.namespace: a Namespace is cluster-scoped; metadata.namespace is ignored']);
  assert.equal(r.objects[0].object.metadata, { name: 'ns1', labels: { 'kubernetes.io/metadata.name': 'ns1' } });
});

test.run();
