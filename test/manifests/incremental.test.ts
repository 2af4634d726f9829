// Loading is incremental (unchanged files are neither parsed nor validated again) and must give the very answer
// a fresh load gives, over random sequences of edits, errors, renames and deletions.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { clearLoadCache, loadManifests, loadStats, Preload, preloadInWorkers, workersWanted } from '../../src/manifests/load-manifests.ts';
import type { AppliedCrd, LoadCache, ManifestFile } from '../../src/manifests/types.ts';
import type { KubeObject } from '../../src/model/object.ts';
import * as yaml from 'js-yaml';

/** A deterministic generator, so a failure can be replayed. */
function rng(seed: number) {
  return () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x7fffffff; };
}

const VARIANTS = [
  (n: string, v: number) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${n}}\ndata: {v: "${v}"}\n`,
  (n: string, v: number) => `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: ${n}}\nspec:\n  replicas: ${v % 3}\n  selector: {matchLabels: {app: ${n}}}\n  template:\n    metadata: {labels: {app: ${n}}}\n    spec: {containers: [{name: c, image: "nginx:1.${v}"}]}\n`,
  (n: string, v: number) => `apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: ${n}}\n`,
  (n: string, v: number) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${n}}\ndata: {v: ${v}}\n`, // an error: a number
  (n: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dup}\n`, // duplicates across files
  (n: string, v: number) => `apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: ${n}}\nspec: {size: ${v}}\n`,
  (n: string, v: number) => `apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: widgets.example.com}\nspec:\n  group: example.com\n  scope: Namespaced\n  names: {plural: widgets, kind: Widget}\n  versions: [{name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object, properties: {spec: {type: object, properties: {size: {type: integer, maximum: ${v % 5}}, color: {type: string, default: red}}}}}}}]\n`,
  () => `key: [unclosed\n`,
];

const summary = (files: ManifestFile[], strict: boolean) => {
  const r = loadManifests(files, { strict });
  return JSON.stringify({ objects: r.objects.map((o) => [o.file, o.line, o.object]), issues: r.issues });
};

test('a cached load equals a fresh load after every random edit', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const next = rng(seed);
    const files = new Map<string, string>();
    for (let step = 0; step < 60; step++) {
      const path = `app-${Math.floor(next() * 8)}/f${Math.floor(next() * 4)}.yaml`;
      const roll = next();
      if (roll < 0.15) files.delete(path);
      else files.set(path, VARIANTS[Math.floor(next() * VARIANTS.length)](`o${Math.floor(next() * 6)}`, Math.floor(next() * 10)));
      const list = [...files].map(([p, content]) => ({ path: p, content }));
      const strict = next() < 0.2;
      const cached = summary(list, strict);
      clearLoadCache();
      const fresh = summary(list, strict);
      assert.is(cached, fresh, `seed ${seed}, step ${step}`);
      // the cached answer again: handing out objects must not let a caller's changes leak into the next load
      const out = loadManifests(list, { strict });
      for (const o of out.objects) o.object.metadata.annotations = { scribbled: 'yes' };
      assert.is(summary(list, strict), fresh, `seed ${seed}, step ${step}, after a caller wrote into the objects`);
    }
  }
});

// Custom resources are checked (and copied) on every load, never shared: built-in kinds only here.
// Defaulting adds nothing to these: the loader's object is the document itself (sharingEqual).
const AS_DEFAULTED = (n: string, v: number) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${n}-d, namespace: default}\ndata: {v: "${v}"}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: ${n}-cr}\nrules: []\n`;
const BUILT_IN = [VARIANTS[0], VARIANTS[1], VARIANTS[2], VARIANTS[3], VARIANTS[4], VARIANTS[7], AS_DEFAULTED];

test('a shared load (the sync loop\'s) equals a fresh load, and hands out the same frozen object for an unchanged document', () => {
  for (const seed of [11, 12, 13]) {
    const next = rng(seed);
    const files = new Map<string, string>();
    for (let step = 0; step < 60; step++) {
      const path = `app-${Math.floor(next() * 8)}/f${Math.floor(next() * 4)}.yaml`;
      const roll = next();
      if (roll < 0.15) files.delete(path);
      else files.set(path, BUILT_IN[Math.floor(next() * BUILT_IN.length)](`o${Math.floor(next() * 6)}`, Math.floor(next() * 10)));
      const list = [...files].map(([p, content]) => ({ path: p, content }));
      const shared = loadManifests(list, { shared: true });
      // Loaded again without a change: the very same objects from the first load on (what lets the plan skip
      // unchanged ones), a changed file's too.
      const again = loadManifests(list, { shared: true });
      assert.is(again.objects.length, shared.objects.length);
      again.objects.forEach((o, i) => { assert.ok(o.object === shared.objects[i].object, `seed ${seed}, step ${step}: same object`); });
      const sharedSummary = JSON.stringify({ objects: shared.objects.map((o) => [o.file, o.line, o.object]), issues: shared.issues });
      clearLoadCache();
      assert.is(sharedSummary, summary(list, false), `seed ${seed}, step ${step}`);
      // Built-in kinds' objects are shared and frozen: a writer throws instead of changing the next load's answer.
      for (const o of shared.objects) {
        assert.throws(() => { (o.object.metadata as any).scribbled = 'yes'; }, TypeError);
      }
    }
  }
});


// Documents whose checks reach across files: namespaces committed or not, Services with selectors and the
// endpoints given for them, Ingresses and their classes, kept kinds, and files that cannot be parsed.
const ACROSS = [
  (n: string) => `apiVersion: v1\nkind: Namespace\nmetadata: {name: ns-${n.slice(-1)}}\n`,
  (n: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${n}-x, namespace: ns-${n.slice(-1)}}\n`,
  (n: string) => `apiVersion: v1\nkind: Service\nmetadata: {name: svc-${n.slice(-1)}}\nspec: {selector: {app: a}, ports: [{port: 80}]}\n`,
  (n: string) => `apiVersion: v1\nkind: Service\nmetadata: {name: svc-${n.slice(-1)}}\nspec: {ports: [{port: 80}]}\n`,
  (n: string) => `apiVersion: v1\nkind: Endpoints\nmetadata: {name: svc-${n.slice(-1)}}\nsubsets: []\n`,
  (n: string) => `apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: ${n}-es, labels: {kubernetes.io/service-name: svc-${n.slice(-1)}}}\naddressType: IPv4\nendpoints: []\n`,
  (n: string) => `apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: ${n}-in}\nspec: {ingressClassName: nginx, defaultBackend: {service: {name: svc-1, port: {number: 80}}}}\n`,
  (n: string) => `apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: {name: nginx}\nspec: {controller: k8s.io/ingress-nginx}\n`,
  (n: string) => `apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: ${n}-r}\nrules: []\n`,
  (n: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${n}-h}\ndata: {v: "1"}\n---\nkey: [unclosed\n`,
];

test('the sync loop\'s load, made from the last one by the files that changed, equals a fresh load after every random edit', () => {
  for (const seed of [41, 42, 43, 44]) {
    const next = rng(seed);
    const kinds = [...BUILT_IN, ...ACROSS, ...ACROSS];
    clearLoadCache();
    // As a source hands them over: an unchanged file is the very same object.
    const files = new Map<string, ManifestFile>();
    let fromLast = 0;
    let appliedCrds: AppliedCrd[] = [];
    for (let step = 0; step < 80; step++) {
      for (let edits = 1 + Math.floor(next() * 3); edits > 0; edits--) {
        const path = `app-${Math.floor(next() * 10)}/f${Math.floor(next() * 5)}.yaml`;
        const roll = next();
        // Now and then a custom resource or a CRD: the loads that follow, until it goes, are whole loads.
        const kind = roll < 0.015 ? VARIANTS[5 + Math.floor(next() * 2)] : kinds[Math.floor(next() * kinds.length)];
        if (roll > 0.8) files.delete(path);
        else {
          const content = kind(`o${Math.floor(next() * 6)}`, Math.floor(next() * 10));
          files.set(path, { path, content, oid: createHash('sha1').update(content).digest('hex') });
        }
      }
      const list = [...files.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
      const before = loadStats.fromLast;
      // Now and then the applied CRDs change (a sync applied one): loads under them are whole ones.
      if (next() < 0.03) appliedCrds = appliedCrds.length ? [] : [{ object: WIDGET_CRD, fromGit: true }];
      const shared = loadManifests(list, { shared: true, appliedCrds });
      fromLast += loadStats.fromLast - before;
      const got = JSON.stringify({ objects: shared.objects.map((o) => [o.file, o.line, o.column, o.object]), issues: shared.issues });
      shared.objects.fill(shared.objects[0]); // the caller's own array: the next load's is not changed by this
      const fresh = loadManifests(list.map((f) => ({ ...f })), { appliedCrds });
      assert.is(got, JSON.stringify({ objects: fresh.objects.map((o) => [o.file, o.line, o.column, o.object]), issues: fresh.issues }), `seed ${seed}, step ${step}`);
    }
    assert.ok(fromLast > 15, `seed ${seed}: ${fromLast} loads made from the last one`);
  }
});

const WIDGET_CRD = (yaml.load(VARIANTS[6]('w', 3)) as KubeObject);

/** A CRD of group rbac.authorization.k8s.io that redefines Role: Role documents are checked against its schema. */
const SHADOW = `apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: roles.rbac.authorization.k8s.io}\nspec:\n  group: rbac.authorization.k8s.io\n  scope: Namespaced\n  names: {plural: roles, kind: Role}\n  versions: [{name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object, properties: {rules: {type: integer}}}}}]\n`;
const ROLE = `apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r}\nrules: []\n`;
const CM = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {v: "1"}\n`;

test('a CRD that redefines a built-in kind, committed or applied, before or after its documents: the answer of a fresh load', () => {
  const file = (path: string, content: string): ManifestFile => ({ path, content });
  const same = (steps: ManifestFile[][], appliedCrds: AppliedCrd[] = []) => {
    clearLoadCache();
    for (const [i, list] of steps.entries()) {
      const shared = loadManifests(list, { shared: true, appliedCrds });
      const fresh = loadManifests(list.map((f) => ({ ...f })), { appliedCrds });
      assert.equal(shared.issues, fresh.issues, `step ${i}`);
      assert.is(shared.objects.length, fresh.objects.length, `step ${i}`);
    }
  };
  const crd = file('a/crd.yaml', SHADOW), cm = file('a/cm.yaml', CM), role = file('a/role.yaml', ROLE);
  same([[crd, cm], [crd, cm, role]]); // the CRD first, the Role after
  same([[cm, role], [crd, cm, role]]); // the Role first (its verdict cached), the CRD after
  same([[cm], [cm, role]], [{ object: yaml.load(SHADOW) as KubeObject, fromGit: true }]); // applied
  clearLoadCache();
  const withShadow = loadManifests([crd, cm, role], {});
  assert.ok(withShadow.issues.some((i) => i.file === 'a/role.yaml' && i.severity === 'error'), 'the sample does redefine Role');
});

test('the same path twice: the next load is not made from that one', () => {
  clearLoadCache();
  const a: ManifestFile = { path: 'a.yaml', content: `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: missing}\n` };
  const b: ManifestFile = { path: 'b.yaml', content: CM };
  loadManifests([a, b, { ...b }], { shared: true });
  const before = loadStats.fromLast;
  const shared = loadManifests([a, b], { shared: true });
  assert.equal(shared.issues, loadManifests([{ ...a }, { ...b }], {}).issues);
  assert.ok(shared.issues.some((i) => i.message.includes('namespace "missing" does not exist')));
  assert.is(loadStats.fromLast, before);
});

const LIST = (n: string, v: number) => `apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: ${n}-l}, data: {v: "${v}"}}\n- {apiVersion: v1, kind: Secret, metadata: {name: ${n}-s}, stringData: {v: "${v}"}, bogus: 1}\n`;
const ALIASES = (n: string) => `a: &x [1, 2]\nb: *x\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${n}-a}\ndata: {x: "1"}\n`;
const KEPT = (n: string) => `apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: ${n}-r}\nrules: []\n`;

test('a load whose files were parsed and checked in worker threads equals a load on the one thread', async () => {
  const next = rng(21);
  const kinds = [...VARIANTS, LIST, ALIASES, KEPT];
  const list: ManifestFile[] = Array.from({ length: 260 }, (_, i) => ({ path: `team-${i % 7}/f${i}.yaml`, oid: `oid-${i}`, content: kinds[Math.floor(next() * kinds.length)](`o${i}`, Math.floor(next() * 10)) }));
  const setting = process.env.CONVERGIT_PARSE_WORKERS;
  process.env.CONVERGIT_PARSE_WORKERS = '1'; // whatever the machine's load
  try {
    await pooledEqualsAlone(list);
  } finally {
    if (setting === undefined) delete process.env.CONVERGIT_PARSE_WORKERS;
    else process.env.CONVERGIT_PARSE_WORKERS = setting;
  }
});

/** The files as a source hands them over when the loader holds them loaded: no text. */
const unread = (list: ManifestFile[]): ManifestFile[] => list.map((f) => ({ ...f, content: '', unread: true }));
/** A load cache that only keeps what is set, as the JSON it would write. */
const recording = (entries: Map<string, string>): LoadCache => ({
  get: () => undefined,
  set: (key, value, opts) => void entries.set(key, opts?.json ? String(value) : JSON.stringify(opts?.lazy ? (value as () => unknown)() : value)),
});

async function pooledEqualsAlone(list: ManifestFile[]) {
  for (const strict of [false, true]) {
    clearLoadCache();
    const alone = summary(list, strict);
    clearLoadCache();
    const workerEntries = new Map<string, string>();
    const workers = new Preload({ strict, cache: recording(workerEntries) }, list.length, true);
    for (const file of list) workers.add(file);
    assert.is(await workers.finish(), list.length, 'every file loaded by a worker');
    // Held, not parsed again: a load of the files left unread (it throws for one the loader does not hold).
    assert.is(summary(unread(list), strict), alone, `strict ${strict}`);
    // As a load uses them: the main thread loads, beside the workers, the files no worker was sent yet.
    clearLoadCache();
    const sharedEntries = new Map<string, string>();
    assert.is(await preloadInWorkers(list, { strict, cache: recording(sharedEntries) }), list.length, 'every file loaded by a worker or the main thread');
    assert.is(summary(unread(list), strict), alone, `strict ${strict}, the main thread too`);
    assert.equal(Object.fromEntries(sharedEntries), Object.fromEntries(workerEntries), 'the load cache gets the same entries');
    // Custom resources too, with their CRDs in the commit: the workers leave them to the whole load.
    assert.ok(JSON.parse(alone).objects.some((o: any) => o[2].kind === 'Widget'), 'the sample has custom resources');
  }
  clearLoadCache();
  assert.is(await preloadInWorkers(list.slice(0, 20)), 0, 'a few files: not worth the workers');
}

test('files handed to the workers one by one as they are read give the same load; none once it is finished', async () => {
  const next = rng(33);
  const kinds = [...VARIANTS, LIST, ALIASES, KEPT];
  const list: ManifestFile[] = Array.from({ length: 450 }, (_, i) => ({ path: `t-${i % 5}/g${i}.yaml`, content: kinds[Math.floor(next() * kinds.length)](`p${i}`, Math.floor(next() * 10)) }));
  clearLoadCache();
  const alone = summary(list, false);
  await withWorkers('1', async () => {
    clearLoadCache();
    const preload = new Preload({});
    for (const [i, file] of list.entries()) {
      preload.add(file);
      // A read hands blobs over between its turns of the event loop: the workers answer in between.
      if (i % 50 === 0) await new Promise((r) => setImmediate(r));
    }
    assert.is(await preload.finish(), list.length, 'every file loaded by a worker');
    assert.is(summary(list, false), alone);
    const late: ManifestFile = { path: 'late.yaml', content: VARIANTS[0]('late', 1) };
    preload.add(late);
    assert.is(await preload.finish(), list.length, 'a file added once finished is left to the load');
  });
  await withWorkers('1', async () => {
    clearLoadCache();
    const few = new Preload({});
    for (const file of list.slice(0, 199)) few.add(file);
    assert.is(await few.finish(), 0, 'fewer than 200 files: no workers started, the load parses them');
  });
  await withWorkers('0', async () => {
    clearLoadCache();
    const off = new Preload({});
    for (const file of list) off.add(file);
    assert.is(await off.finish(), 0, 'workers off: the load parses every file');
    assert.is(summary(list, false), alone);
  });
  await withWorkers('1', async () => {
    clearLoadCache();
    const cut = new Preload({});
    for (const file of list) cut.add(file);
    cut.abort(); // the read failed: its workers end now, whatever they hold
    assert.ok(await cut.finish() < list.length, 'aborted before the workers were through');
    assert.is(summary(list, false), alone, 'what they did not load, the load parses');
  });
});

test('workers told of the files a read will parse start before the first is read; files the loader or the load cache holds do not count', async () => {
  const oid = (content: string) => createHash('sha1').update(content).digest('hex');
  const list: ManifestFile[] = Array.from({ length: 450 }, (_, i) => {
    const content = VARIANTS[i % VARIANTS.length](`e${i}`, i % 10);
    return { path: `e-${i % 5}/e${i}.yaml`, content, oid: oid(content) };
  });
  await withWorkers('1', async () => {
    clearLoadCache();
    const early = new Preload({});
    for (const f of list) early.expect(f.path, f.oid!);
    for (const f of list.slice(0, 150)) early.add(f);
    assert.is(await early.finish(), 150, 'under 200 read, but 450 were coming: the workers had started');
    // 150 of these are loaded now: 199 others are too few for workers.
    const again = new Preload({});
    for (const f of list.slice(0, 349)) again.expect(f.path, f.oid!);
    for (const f of list.slice(150, 349)) again.add(f);
    assert.is(await again.finish(), 0, 'files the loader holds are not counted');
    clearLoadCache();
    const held: LoadCache = { get: () => undefined, set: () => {}, has: () => true };
    const cached = new Preload({ cache: held });
    for (const f of list) cached.expect(f.path, f.oid!);
    for (const f of list.slice(0, 150)) cached.add(f);
    assert.is(await cached.finish(), 0, 'files the load cache holds are not counted');
  });
  await withWorkers('0', async () => {
    clearLoadCache();
    const off = new Preload({});
    for (const f of list) off.expect(f.path, f.oid!);
    for (const f of list) off.add(f);
    assert.is(await off.finish(), 0, 'workers off: the load parses every file');
  });
});

test('a process whose parse workers were aborted, or finished, exits by itself', async () => {
  // Workers left running would keep the process alive: the child would never exit.
  for (const end of ['abort', 'finish']) {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', new URL('./preload-child.ts', import.meta.url).pathname, end],
      { env: { ...process.env, CONVERGIT_PARSE_WORKERS: '1' }, timeout: 60_000 });
    assert.match(stdout, new RegExp(`^${end}: \\d+ loaded of 300$`, 'm'));
  }
});

async function withWorkers(setting: string, run: () => Promise<void>) {
  const was = process.env.CONVERGIT_PARSE_WORKERS;
  process.env.CONVERGIT_PARSE_WORKERS = setting;
  try {
    await run();
  } finally {
    if (was === undefined) delete process.env.CONVERGIT_PARSE_WORKERS;
    else process.env.CONVERGIT_PARSE_WORKERS = was;
  }
}

test('workers are used when a core and a half is idle beside the main thread, or when told', () => {
  assert.ok(workersWanted(undefined, 0.3, 4), 'a quiet machine');
  assert.ok(workersWanted(undefined, 1.5, 4), 'a core and a half idle beside the main thread');
  assert.not.ok(workersWanted(undefined, 0, 2), 'one worker beside the main thread does not pay');
  assert.not.ok(workersWanted(undefined, 2.8, 4), 'every core busy: only more work');
  assert.ok(workersWanted('1', 20, 2));
  assert.not.ok(workersWanted('0', 0, 8));
});
test.run();
