// Reviewer warnings: each one, where it points, and the case that must not warn.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../src/model/object.ts';
import type { LiveState } from '../../src/review/live-state.ts';
import { floatingTag, reviewWarnings } from '../../src/review/warnings.ts';
import { deploymentYaml, liveState, load, objectsOf, running, stored } from './workload-builders.ts';

const none: LiveState = { objects: [], inventory: [], nodesKnown: true };
const codes = (text: string, live = none) => reviewWarnings(load(text), live).map((w) => `${w.code} ${w.field}`);

/** 1-based line and column of the `nth` occurrence of `needle` in `text`. */
function at(text: string, needle: string, nth = 1): { line: number; column: number } {
  let i = -1;
  for (let n = 0; n < nth; n++) i = text.indexOf(needle, i + 1);
  assert.ok(i >= 0, `"${needle}" in the fixture`);
  const before = text.slice(0, i).split('\n');
  return { line: before.length, column: before.at(-1)!.length + 1 };
}

const service = (selector: string, name = 'web') => `apiVersion: v1
kind: Service
metadata: { name: ${name} }
spec:
  selector: ${selector}
  ports: [{ port: 80 }]
`;
const requested = { cpu: '100m' };

test('SelectorMatchesNoPods: at spec.selector, with the selector and the namespace', () => {
  const text = `${deploymentYaml({ ...requested })}---\n${service('{ app: api }')}`;
  const [w] = reviewWarnings(load(text, 'apps/web.yaml'), none);
  assert.equal(w, {
    code: 'SelectorMatchesNoPods', kind: 'Service', namespace: 'default', name: 'web',
    file: 'apps/web.yaml', ...at(text, 'selector: { app: api }'), field: 'spec.selector',
    message: 'selector app=api matches no pod template in namespace default (Deployment, ReplicaSet or Pod, in git or live): the Service would have no endpoints',
  });
});

test('SelectorMatchesNoPods: not for a matching template, a Service without selector, or a live pod git does not own', () => {
  assert.equal(codes(`${deploymentYaml({ ...requested })}---\n${service('{ app: web }')}`), []);
  assert.equal(codes(`apiVersion: v1\nkind: Service\nmetadata: { name: ext }\nspec: { ports: [{ port: 80 }] }\n`), []);
  // Every selector label must match, not only one.
  assert.equal(codes(`${deploymentYaml({ ...requested })}---\n${service('{ app: web, tier: front }')}`), ['SelectorMatchesNoPods spec.selector']);
  // A pod made by hand (never applied from git, no owner) stays after the plan and is selected.
  const handMade: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'probe', namespace: 'default', labels: { app: 'api' } }, spec: { containers: [{ name: 'a', image: 'x:1' }] }, status: { phase: 'Running' } };
  assert.equal(codes(service('{ app: api }'), liveState([handMade], [])), []);
});

test('SelectorMatchesNoPods: live pods of a workload git removes do not count', () => {
  const api = running(deploymentYaml({ name: 'api' }), { nodes: ['n1'] });
  // The Deployment was applied from git and is gone from the desired state: its pods go with it.
  assert.equal(codes(service('{ app: api }'), liveState(api.all, [api.deployment])), ['SelectorMatchesNoPods spec.selector']);
  // In another namespace a template does not count either.
  const elsewhere = `apiVersion: v1\nkind: Namespace\nmetadata: { name: other }\n---\n${deploymentYaml({ name: 'api', ...requested }).replace('metadata: { name: api }', 'metadata: { name: api, namespace: other }')}---\n${service('{ app: api }')}`;
  assert.equal(codes(elsewhere), ['SelectorMatchesNoPods spec.selector']);
});

const consumer = (env: string) => `apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
        - name: app
          image: registry.local/web:1
          resources: { requests: { cpu: 100m } }
${env}`;
const greeting = `---
apiVersion: v1
kind: ConfigMap
metadata: { name: greeting }
data: { text: hello }
`;

test('MissingConfigMap: a configMapKeyRef to a ConfigMap that is not defined, at its name', () => {
  const text = consumer(`          env:
            - name: GREETING
              valueFrom: { configMapKeyRef: { name: greeting, key: text } }
`);
  const [w] = reviewWarnings(load(text), none);
  assert.equal(w, {
    code: 'MissingConfigMap', kind: 'Deployment', namespace: 'default', name: 'web', file: 'app.yaml', ...at(text, 'name: greeting'),
    field: 'spec.template.spec.containers[0].env[0].valueFrom.configMapKeyRef.name',
    message: 'configmap "greeting" not found: no ConfigMap of that name in namespace default, in git or live; container "app" would not start (CreateContainerConfigError)',
  });
  // Defined in the same revision: fine.
  assert.equal(codes(text + greeting), []);
  // Optional: Kubernetes leaves the variable out.
  assert.equal(codes(text.replace('key: text }', 'key: text, optional: true }')), []);
});

test('MissingConfigMap: a key the ConfigMap does not have, at the key', () => {
  const text = consumer(`          env:
            - name: GREETING
              valueFrom: { configMapKeyRef: { name: greeting, key: colour } }
`) + greeting;
  const [w] = reviewWarnings(load(text), none);
  assert.equal([w.code, w.field, w.line, w.column], ['MissingConfigMap', 'spec.template.spec.containers[0].env[0].valueFrom.configMapKeyRef.key', at(text, 'key: colour').line, at(text, 'key: colour').column]);
  assert.is(w.message, 'couldn\'t find key colour in ConfigMap default/greeting: container "app" would not start (CreateContainerConfigError)');
});

test('MissingConfigMap: one live but not from git stays and counts; one git applied and now removed does not', () => {
  const text = consumer(`          envFrom:
            - configMapRef: { name: greeting }
`);
  const cm = stored(objectsOf(greeting)[0]);
  assert.equal(codes(text, liveState([cm], [])), [], 'made outside git: it stays');
  assert.equal(codes(text, liveState([cm], [cm])), ['MissingConfigMap spec.template.spec.containers[0].envFrom[0].configMapRef.name'], 'pruned by this plan');
});

test('MissingSecret: secretKeyRef and envFrom secretRef, optional ones excepted; keys from stringData count', () => {
  const text = consumer(`          env:
            - name: TOKEN
              valueFrom: { secretKeyRef: { name: creds, key: token } }
          envFrom:
            - secretRef: { name: extra }
            - secretRef: { name: maybe, optional: true }
`);
  assert.equal(codes(text), [
    'MissingSecret spec.template.spec.containers[0].env[0].valueFrom.secretKeyRef.name',
    'MissingSecret spec.template.spec.containers[0].envFrom[0].secretRef.name',
  ]);
  const secrets = `---\napiVersion: v1\nkind: Secret\nmetadata: { name: creds }\nstringData: { token: s3cret }\n---\napiVersion: v1\nkind: Secret\nmetadata: { name: extra }\ndata: {}\n`;
  assert.equal(codes(text + secrets), []);
  assert.equal(codes(text.replace('key: token', 'key: password') + secrets), ['MissingSecret spec.template.spec.containers[0].env[0].valueFrom.secretKeyRef.key']);
});

test('NoResourceRequests: one per container without cpu or memory; a limit stands in for a request', () => {
  const text = `apiVersion: v1
kind: Pod
metadata: { name: tool }
spec:
  containers:
    - name: bare
      image: registry.local/tool:1
    - name: empty
      image: registry.local/tool:1
      resources: {}
    - name: limited
      image: registry.local/tool:1
      resources: { limits: { memory: 64Mi } }
    - name: requested
      image: registry.local/tool:1
      resources: { requests: { cpu: 10m } }
`;
  const ws = reviewWarnings(load(text), none);
  assert.equal(ws.map((w) => [w.code, w.field, w.line, w.column]), [
    ['NoResourceRequests', 'spec.containers[0]', at(text, '- name: bare').line, at(text, 'name: bare').column],
    ['NoResourceRequests', 'spec.containers[1].resources', at(text, 'resources: {}').line, at(text, 'resources: {}').column],
  ]);
  assert.match(ws[0].message, /^container "bare" requests no cpu or memory: the scheduler counts it as zero/);
});

test('LatestImage: untagged and :latest images; tags, digests and git images are pinned', () => {
  assert.equal(['busybox', 'node:latest', 'registry:5000/app', 'registry:5000/app:latest'].map(floatingTag), ['none', 'latest', 'none', 'latest']);
  assert.equal(['node:20', 'registry:5000/app:1.2', 'busybox@sha256:' + 'a'.repeat(64), 'git:apps/web', 'git:apps/web@' + 'b'.repeat(40)].map(floatingTag),
    [undefined, undefined, undefined, undefined, undefined]);
  const text = deploymentYaml({ ...requested }).replace('registry.local/web:v1', 'busybox');
  const [w] = reviewWarnings(load(text), none);
  assert.equal([w.code, w.field, w.line, w.column], ['LatestImage', 'spec.template.spec.containers[0].image', ...Object.values(at(text, 'image: busybox'))]);
  assert.is(w.message, 'image "busybox" has no tag, so it means busybox:latest: what runs can change without a commit; pin a version or a digest');
  assert.equal(codes(deploymentYaml({ ...requested }).replace('registry.local/web:v1', 'git:apps/web')), []);
});

test('sorted by file, line and column across files and checks', () => {
  const text = deploymentYaml({ name: 'a' }).replace('registry.local/a:v1', 'busybox');
  const ws = reviewWarnings([...load(text, 'b.yaml'), ...load(service('{ app: none }'), 'a.yaml')], none);
  assert.equal(ws.map((w) => `${w.file}:${w.line}:${w.column} ${w.code}`), [
    'a.yaml:5:3 SelectorMatchesNoPods',
    `b.yaml:${at(text, '- name: app').line}:${at(text, 'name: app').column} NoResourceRequests`,
    `b.yaml:${at(text, 'image: busybox').line}:${at(text, 'image: busybox').column} LatestImage`,
  ]);
});

test.run();
