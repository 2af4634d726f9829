// The upstream corpus (../shared/corpus: ~800 manifests of ten public projects): every application folder that
// is valid Kubernetes validates as a whole; every other folder fails only for the reasons listed here, each
// explained. A new false refusal, or an exception that no longer happens, fails this test.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { kindInfo } from '../../src/model/kinds.ts';
import { CORPUS, corpusPresent, loadCorpusBuilds, loadCorpusFolders, type FolderResult } from './corpus-load.ts';
import { findKustomize } from '../../src/build/kustomize-tool.ts';

/** Why a folder cannot load as a whole, by the kind of error it gives. */
const REASONS: Record<string, string> = {
  duplicate: 'upstream ships alternatives side by side (nginx and nginx-plus, recommended and alternative, example variants); one commit holds one of them',
  'no-crd': 'custom resources whose CRD the project does not ship (Istio, cert-manager, Prometheus Operator, Gateway API for Istio samples)',
  'removed-api': 'an API version Kubernetes removed before 1.32 (rbac v1beta1 in 1.22, apiextensions v1beta1 in 1.22): a 1.32 API server refuses it too',
  'no-namespace': "the istio-system namespace is created by istioctl, not shipped with the rendered output",
  'host-path': 'a hostPath volume outside the folders `serve --allow-host-path` allows: convergit refuses it by design until the operator allows that folder',
  'yaml-duplicate-key': 'a mapping key written twice: Kubernetes refuses it too ("mapping key already defined")',
  'required spec.selector': 'apps/v1 DaemonSet without spec.selector: a 1.32 API server refuses it too',
  'required kind': 'a kustomize strategic-merge patch next to its base in a folder without a kustomization',
  'not-a-manifest': 'a Prometheus scrape configuration, not a Kubernetes object',
  'data must be a mapping': "kustomize's validationTransformer example is invalid on purpose",
  'not-a-kind': "kustomize's transformerconfigs example uses a made-up kind Bee in the core group (apiVersion v1beta1)",
};

const EXCEPTIONS: Record<string, string[]> = {
  'gateway-api/examples/standard': ['duplicate'],
  'gateway-api/examples/standard/grpc-routing': ['duplicate'],
  'gateway-api/examples/standard/multicluster': ['duplicate'],
  'gateway-api/examples/standard/traffic-splitting': ['duplicate'],
  'istio/operator/cmd/mesh/testdata/manifest-generate/output': ['duplicate', 'host-path', 'no-namespace'],
  'istio/samples/bookinfo/gateway-api': ['no-crd'],
  'istio/samples/bookinfo/networking': ['no-crd'],
  'istio/samples/bookinfo/platform/kube': ['duplicate', 'no-crd'],
  'kubebuilder-cronjob-tutorial/docs/book/src/cronjob-tutorial/testdata/project/dist': ['no-crd'],
  'kubernetes-dashboard/aio/deploy': ['duplicate'],
  'kubernetes-dashboard/aio/test-resources': ['no-crd', 'removed-api', 'required spec.selector'],
  'kubernetes-dashboard/cypress/fixtures': ['no-crd', 'removed-api'],
  'kubernetes-kafka/cruise-control': ['required kind'],
  'kubernetes-kafka/variants/prometheus-operator-example/scrape-configs': ['not-a-manifest'],
  'kustomize-examples/examples/validationTransformer': ['data must be a mapping', 'duplicate'],
  'local-path-provisioner/examples/quota': ['host-path', 'yaml-duplicate-key'],
  'nginx-ingress-controller/deployments/daemon-set': ['duplicate'],
  'nginx-ingress-controller/deployments/deployment': ['duplicate'],
  'nginx-ingress-controller/deployments/service': ['duplicate'],
  'nginx-ingress-controller/examples/custom-resources/access-control': ['duplicate'],
  'nginx-ingress-controller/examples/ingress-resources/tcp-udp': ['duplicate'],
  'sock-shop/deploy/kubernetes/autoscaling': ['removed-api'],
  'sock-shop/deploy/kubernetes/manifests-monitoring': ['host-path'],
  'sock-shop/deploy/kubernetes/manifests-logging': ['host-path', 'removed-api'],
};

function category(field: string | undefined, m: string): string {
  if (/^duplicate /.test(m)) return 'duplicate';
  if (/no CustomResourceDefinition for/.test(m)) return 'no-crd';
  if (/^must be ".*" for .*, not ".*v1beta1"$/.test(m)) return 'removed-api';
  if (/is outside the host folders this server mounts/.test(m)) return 'host-path';
  if (/duplicated mapping key/.test(m)) return 'yaml-duplicate-key';
  if (/does not exist: commit a Namespace/.test(m)) return 'no-namespace';
  if (/a manifest must be a mapping/.test(m)) return 'not-a-manifest';
  if (/has no such kind in Kubernetes 1.32/.test(m)) return 'not-a-kind';
  return `${field} ${m}`.replace(/^(\S+) is required$/, 'required $1');
}

if (!corpusPresent()) {
  console.log(`notice: ${CORPUS} is absent; the corpus tests are skipped`);
} else {
  let folders: FolderResult[] = [];
  test.before(() => { folders = loadCorpusFolders(); });

  test('every application folder validates as a whole, or fails only for its documented reasons', () => {
    const actual = Object.fromEntries(folders.filter((f) => f.errors.length).map((f) => [f.folder, [...new Set(f.errors.map((e) => category(e.field, e.message)))].sort()]));
    assert.equal(actual, EXCEPTIONS);
    for (const cats of Object.values(EXCEPTIONS)) for (const c of cats) assert.ok(REASONS[c], `a reason for ${c}`);
  });

  test('every kustomization that builds validates as a whole, or fails only for its documented reasons', async () => {
    if (!(await findKustomize())) { console.log('  skipped: neither kustomize nor kubectl is on PATH'); return; }
    const builds = await loadCorpusBuilds();
    const actual = Object.fromEntries(builds.filter((f) => f.errors.length).map((f) => [f.folder, [...new Set(f.errors.map((e) => category(e.field, e.message)))].sort()]));
    assert.equal(actual, {
      'kubebuilder-cronjob-tutorial/docs/book/src/cronjob-tutorial/testdata/project/config/default': ['no-crd'],
      'kustomize-examples/examples/transformerconfigs/crd': ['no-crd', 'not-a-kind'],
    });
    assert.ok(builds.length >= 30 && builds.filter((b) => !b.errors.length).length >= 28, `${builds.length} builds`);
  });

  test('most of the corpus loads: run or kept, never "unsupported"', () => {
    const documents = folders.reduce((n, f) => n + f.documents, 0);
    const objects = folders.flatMap((f) => f.objects);
    assert.ok(documents > 500, `${documents} documents read`);
    assert.ok(folders.filter((f) => !f.errors.length).length >= 40, 'at least 40 whole folders validate');
    for (const o of objects) {
      const mode = kindInfo(o.kind)?.mode ?? 'kept'; // custom kinds are kept
      assert.ok(mode === 'run' || mode === 'kept', `${o.kind} ${o.metadata.name} is ${mode}`);
    }
    const kinds = new Set(objects.map((o) => o.kind));
    for (const k of ['ServiceAccount', 'ClusterRoleBinding', 'StatefulSet', 'Job', 'DaemonSet', 'Ingress', 'NetworkPolicy',
      'HorizontalPodAutoscaler', 'PersistentVolumeClaim', 'StorageClass', 'CustomResourceDefinition', 'HTTPRoute', 'Gateway']) {
      assert.ok(kinds.has(k), `${k} objects load from the corpus`);
    }
  });
}

test.run();
