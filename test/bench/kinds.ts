// Load + validate + plan of 10,000 documents of mixed kinds (custom resources included), next to 10,000
// ConfigMaps: the cost of the OpenAPI-driven validation per kind. Figures and a ratio; nothing asserted.
import { clearLoadCache, loadManifests } from '../../src/manifests/load-manifests.ts';
import { makePlan } from '../../src/plan/plan.ts';
import { registerCrds } from '../../src/model/custom-kinds.ts';
import type { ManifestFile } from '../../src/manifests/types.ts';

const CRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, kind: Widget}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              x-kubernetes-validations: [{rule: "self.size >= 1", message: size must be positive}]
              properties:
                size: {type: integer, default: 1}
                color: {type: string, enum: [red, blue]}
`;

const KINDS: ((i: number) => string)[] = [
  (i) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-${i}}\ndata: {k: v${i}}\n`,
  (i) => `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d-${i}}\nspec:\n  replicas: 0\n  selector: {matchLabels: {app: d-${i}}}\n  template:\n    metadata: {labels: {app: d-${i}}}\n    spec:\n      containers: [{name: c, image: "nginx:1.27", ports: [{containerPort: 80}], resources: {requests: {cpu: 10m, memory: 16Mi}}}]\n`,
  (i) => `apiVersion: v1\nkind: Service\nmetadata: {name: s-${i}}\nspec:\n  selector: {app: d-${i}}\n  ports: [{port: 80}]\n`,
  (i) => `apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: sa-${i}}\n`,
  (i) => `apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r-${i}}\nrules: [{apiGroups: [""], resources: [pods], verbs: [get]}]\n`,
  (i) => `apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: i-${i}}\nspec:\n  rules: [{host: h${i}.example, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: s-${i}, port: {number: 80}}}}]}}]\n`,
  (i) => `apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: st-${i}}\nspec:\n  serviceName: s-${i}\n  replicas: 0\n  selector: {matchLabels: {app: st-${i}}}\n  template:\n    metadata: {labels: {app: st-${i}}}\n    spec: {containers: [{name: c, image: "redis:7"}]}\n`,
  (i) => `apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w-${i}}\nspec: {size: 2, color: red}\n`,
];

function files(n: number, doc: (i: number) => string, extra: string[] = []): ManifestFile[] {
  const out: ManifestFile[] = extra.map((content, i) => ({ path: `extra-${i}.yaml`, content }));
  for (let f = 0; f < 100; f++) {
    const docs: string[] = [];
    for (let i = f; i < n; i += 100) docs.push(doc(i));
    out.push({ path: `app-${f}/all.yaml`, content: docs.join('---\n') });
  }
  return out;
}

function time(label: string, input: ManifestFile[]): number {
  const runs: number[] = [];
  for (let r = 0; r < 3; r++) {
    clearLoadCache(); // a first load each time
    const t0 = performance.now();
    const loaded = loadManifests(input);
    const errors = loaded.issues.filter((i) => i.severity === 'error');
    if (errors.length) throw new Error(`${label}: ${errors[0].message}`);
    const desired = loaded.objects.map((o) => o.object);
    registerCrds(desired.filter((o) => o.kind === 'CustomResourceDefinition'));
    makePlan({ desired, live: [], inventory: [] });
    runs.push(performance.now() - t0);
  }
  const best = Math.min(...runs);
  console.log(`  ${label}: ${best.toFixed(0)} ms (best of 3)`);
  return best;
}

export function kindsBench() {
  console.log('load + validate + plan, 10,000 documents in 100 files:');
  const cms = time('10,000 ConfigMaps', files(10_000, KINDS[0]));
  const mixed = time('10,000 of 8 kinds (Deployments, Services, RBAC, Ingresses, StatefulSets, custom resources…)', files(10_000, (i) => KINDS[i % KINDS.length](i), [CRD]));
  console.log(`  ratio mixed / ConfigMaps: ${(mixed / cms).toFixed(2)} (target: under 2)`);
  // Incremental: the files were read above; one changed file is all a commit should cost to load again.
  const input = files(10_000, (i) => KINDS[i % KINDS.length](i), [CRD]);
  loadManifests(input);
  input[5] = { ...input[5], content: input[5].content.replace('data: {k: v', 'data: {k: changed') };
  const t0 = performance.now();
  loadManifests(input);
  console.log(`  the same 10,000 with one file changed, loaded again: ${(performance.now() - t0).toFixed(0)} ms (unchanged files are not parsed or validated again)`);
}
