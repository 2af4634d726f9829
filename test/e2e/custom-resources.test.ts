// End to end: a CRD and its resources committed to git are served like built-in kinds: `kubectl get` prints the
// CRD's additionalPrinterColumns (wide ones with -o wide, AGE by default), `kubectl explain` reads their schema
// from /openapi/v3; /openapi/v2 holds them too.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeRepo, type TestRepo } from '../support/git-repo.ts';
import { startServe, type ServeProcess } from '../support/serve-process.ts';
import { until } from '../support/wait.ts';

const crds = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: gadgets, singular: gadget, kind: Gadget}
  versions:
    - name: v1
      served: true
      storage: true
      additionalPrinterColumns:
        - {name: Size, type: integer, jsonPath: .spec.size}
        - {name: Mode, type: string, jsonPath: .spec.mode, description: How it runs}
        - {name: Color, type: string, jsonPath: .spec.color}
        - {name: Tags, type: string, priority: 1, jsonPath: .spec.tags}
        - {name: First-Tag, type: string, priority: 1, jsonPath: ".spec.parts[?(@.kind==\\"main\\")].name"}
        - {name: Created, type: date, jsonPath: .metadata.creationTimestamp}
      schema:
        openAPIV3Schema:
          type: object
          description: A gadget someone builds.
          properties:
            spec:
              type: object
              description: What the gadget is made of.
              properties:
                size: {type: integer, description: How many parts the gadget has.}
                mode: {type: string, nullable: true}
                color: {type: string}
                tags: {type: array, items: {type: string}}
                parts: {type: array, items: {type: object, properties: {kind: {type: string}, name: {type: string}}}}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: plainthings.example.com}
spec:
  group: example.com
  scope: Cluster
  names: {plural: plainthings, singular: plainthing, kind: PlainThing}
  versions:
    - name: v1alpha1
      served: true
      storage: true
      schema:
        openAPIV3Schema: {type: object, properties: {spec: {type: object, x-kubernetes-preserve-unknown-fields: true}}}
`;
const resources = `apiVersion: example.com/v1
kind: Gadget
metadata: {name: alpha, namespace: default}
spec:
  size: 3
  mode: Fast
  tags: [a, b]
  parts: [{kind: spare, name: s1}, {kind: main, name: m1}]
---
apiVersion: example.com/v1alpha1
kind: PlainThing
metadata: {name: one}
spec: {anything: 1}
`;

let repo: TestRepo, dataDir: string, serve: ServeProcess;
// Async: a blocked event loop would keep the test's idle keep-alive sockets past the server's timeout.
const kubectl = async (...args: string[]) => (await promisify(execFile)('kubectl', ['--server', serve.url, ...args], { encoding: 'utf8', env: { ...process.env, KUBECONFIG: '/dev/null', HOME: dataDir } })).stdout;
/** kubectl's table cut at its header's column starts (an empty cell is blank). */
const rows = (out: string) => {
  const lines = out.replace(/\n$/, '').split('\n');
  const starts = [...lines[0].matchAll(/\S+/g)].map((m) => m.index!);
  return lines.map((l) => starts.map((s, i) => l.slice(s, starts[i + 1]).trim()));
};

test.before(async () => {
  repo = makeRepo({ 'deploy/crds.yaml': crds, 'deploy/resources.yaml': resources });
  dataDir = mkdtempSync(path.join(tmpdir(), 'convergit-cr-'));
  serve = await startServe(['--repo', repo.dir, '--data-dir', dataDir, '--path', 'deploy', '--nodes', '0']);
  const sha = repo.git('rev-parse', 'HEAD');
  const s = await until(async () => { const b = (await serve.get('/status')).body; return b.lastAttemptedRevision === sha && b.sync !== 'Progressing' && b; }, 'the commit handled');
  assert.is(s.sync, 'Synced', JSON.stringify(s.errors));
  await until(async () => {
    const list = (await serve.get('/apis/apiextensions.k8s.io/v1/customresourcedefinitions')).body.items ?? [];
    return list.length === 2 && list.every((c: any) => c.status?.conditions?.some((x: any) => x.type === 'Established' && x.status === 'True'));
  }, 'both CRDs established');
});

test.after(async () => {
  if (process.env.DEBUG_SERVE) console.log(serve?.output());
  await serve?.stop();
  repo.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
});

test('kubectl get prints the CRD printer columns; a missing value is blank', async () => {
  const [head, row] = rows(await kubectl('get', 'gadgets'));
  assert.equal(head, ['NAME', 'SIZE', 'MODE', 'COLOR', 'CREATED']);
  assert.equal(row.slice(0, 4), ['alpha', '3', 'Fast', '']);
  assert.match(row[4], /^\d+s$/, 'a date column is an age');
});

test('kubectl get -o wide adds the priority columns (JSONPath filters too)', async () => {
  const [head, row] = rows(await kubectl('get', 'gadgets', '-o', 'wide'));
  assert.equal(head, ['NAME', 'SIZE', 'MODE', 'COLOR', 'TAGS', 'FIRST-TAG', 'CREATED'], 'in the CRD order');
  assert.equal([row[4], row[5]], ['["a","b"]', 'm1']);
});

test('a CRD without printer columns gets NAME and AGE', async () => {
  const [head, row] = rows(await kubectl('get', 'plainthings'));
  assert.equal(head, ['NAME', 'AGE']);
  assert.is(row[0], 'one');
});

test('the Table says each column type and description', async () => {
  const t = (await serve.get('/apis/example.com/v1/namespaces/default/gadgets', { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' })).body;
  const defs = Object.fromEntries(t.columnDefinitions.map((c: any) => [c.name, c]));
  assert.equal([defs.Size.type, defs.Mode.description, defs.Tags.priority, defs.Color.description],
    ['integer', 'How it runs', 1, 'Custom resource definition column (in JSONPath format): .spec.color']);
  assert.equal(t.rows[0].cells.slice(1, 4), [3, 'Fast', null]);
});

test('a watch in Table form has the same columns (kubectl get -w)', async () => {
  const w = await serve.get('/apis/example.com/v1/namespaces/default/gadgets?watch=1&timeoutSeconds=1', { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' });
  const first = JSON.parse(w.text.split('\n')[0]);
  assert.is(first.type, 'ADDED');
  assert.equal(first.object.columnDefinitions.map((c: any) => c.name), ['Name', 'Size', 'Mode', 'Color', 'Tags', 'First-Tag', 'Created']);
  assert.equal(first.object.rows[0].cells.slice(0, 3), ['alpha', 3, 'Fast']);
});

test('kubectl explain reads a custom kind from /openapi/v3', async () => {
  const v3 = await kubectl('explain', 'gadgets.spec.size');
  assert.match(v3, 'KIND:       Gadget');
  assert.match(v3, 'How many parts the gadget has.');
  const top = await kubectl('explain', 'gadgets');
  assert.match(top, 'A gadget someone builds.');
  assert.match(top, /metadata\s+<ObjectMeta>/);
  assert.match(await kubectl('explain', 'gadgets.spec'), 'What the gadget is made of.');
  assert.match(await kubectl('explain', 'plainthings'), 'VERSION:    v1alpha1');
});

test('the OpenAPI documents carry the group-version-kind and list paths as kube-apiserver does', async () => {
  const v2 = (await serve.get('/openapi/v2')).body;
  assert.equal(v2.definitions['com.example.v1.Gadget']['x-kubernetes-group-version-kind'], [{ group: 'example.com', kind: 'Gadget', version: 'v1' }]);
  assert.is(v2.definitions['com.example.v1.Gadget'].properties.spec.properties.mode.nullable, undefined, 'v2 has no nullable');
  assert.is(v2.paths['/apis/example.com/v1/namespaces/{namespace}/gadgets'].get.operationId, 'listComExampleV1NamespacedGadget');
  const index = (await serve.get('/openapi/v3')).body;
  assert.ok(index.paths['apis/example.com/v1'] && index.paths['apis/example.com/v1alpha1'], JSON.stringify(Object.keys(index.paths)));
  const doc = (await serve.get(`/${index.paths['apis/example.com/v1'].serverRelativeURL.slice(1)}`)).body;
  assert.ok(doc.components.schemas['com.example.v1.Gadget']);
  assert.ok(doc.components.schemas['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'], 'what it refers to is included');
});

test.run();
