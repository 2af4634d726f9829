import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { applyDefaults, defaultPullPolicy } from '../../src/manifests/defaults.ts';
import type { KubeObject } from '../../src/model/object.ts';
import { load } from './helpers.ts';

const only = (yaml: string) => {
  const r = load(yaml);
  assert.equal(r.issues, []);
  return r.objects[0].object;
};

test('Deployment defaults', () => {
  const d = only('apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n    spec:\n      containers:\n        - name: c\n          image: c\n          ports: [{containerPort: 80}]\n          livenessProbe: {httpGet: {port: 80}}\n');
  assert.is(d.metadata.namespace, 'default');
  const { template, ...spec } = d.spec;
  assert.equal(spec, {
    selector: { matchLabels: { a: 'b' } },
    replicas: 1,
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
    revisionHistoryLimit: 10,
    progressDeadlineSeconds: 600,
    minReadySeconds: 0,
  });
  assert.equal(template.spec, {
    containers: [{
      name: 'c',
      image: 'c',
      ports: [{ containerPort: 80, protocol: 'TCP' }],
      livenessProbe: { httpGet: { port: 80, scheme: 'HTTP' }, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 },
      imagePullPolicy: 'Always',
    }],
    restartPolicy: 'Always',
    terminationGracePeriodSeconds: 30,
  });
});

test('explicit values win; Recreate gets no rollingUpdate; partial rollingUpdate is completed', () => {
  const base = (strategy: string) => `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: kube-system}\nspec:\n  replicas: 0\n  strategy: ${strategy}\n  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n    spec: {terminationGracePeriodSeconds: 0, containers: [{name: c, image: c, imagePullPolicy: Never}]}\n`;
  const recreate = only(base('{type: Recreate}'));
  assert.equal(recreate.spec.strategy, { type: 'Recreate' });
  assert.is(recreate.spec.replicas, 0);
  assert.is(recreate.metadata.namespace, 'kube-system');
  assert.is(recreate.spec.template.spec.terminationGracePeriodSeconds, 0);
  assert.is(recreate.spec.template.spec.containers[0].imagePullPolicy, 'Never');
  assert.equal(only(base('{rollingUpdate: {maxSurge: 2}}')).spec.strategy, { rollingUpdate: { maxSurge: 2, maxUnavailable: '25%' }, type: 'RollingUpdate' });
});

test('ReplicaSet, Pod, Service, Secret and Namespace defaults', () => {
  const rs = only('apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: r}\nspec:\n  selector: {matchLabels: {a: b}}\n  template: {metadata: {labels: {a: b}}, spec: {containers: [{name: c, image: "c:1.2"}]}}\n');
  assert.is(rs.spec.replicas, 1);
  assert.is(rs.spec.template.spec.restartPolicy, 'Always');
  assert.is(rs.spec.template.spec.containers[0].imagePullPolicy, 'IfNotPresent');
  const pod = only('apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: c, readinessProbe: {tcpSocket: {port: 1}, periodSeconds: 3}}]}\n');
  assert.equal(pod.spec.containers[0].readinessProbe, { tcpSocket: { port: 1 }, periodSeconds: 3, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 });
  const svc = only('apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 80}, {name: b, port: 81, targetPort: web, protocol: UDP}]}\n'.replace('{port: 80}', '{name: a, port: 80}'));
  assert.equal(svc.spec, { ports: [{ name: 'a', port: 80, protocol: 'TCP', targetPort: 80 }, { name: 'b', port: 81, targetPort: 'web', protocol: 'UDP' }], type: 'ClusterIP' });
  assert.is(only('apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n').type, 'Opaque');
  assert.is(only('apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ntype: kubernetes.io/tls\n').type, 'kubernetes.io/tls');
  const ns = only('apiVersion: v1\nkind: Namespace\nmetadata: {name: n}\n');
  assert.is(ns.metadata.namespace, undefined, 'cluster-scoped objects get no namespace');
});

test('Secret stringData is folded into data as base64, as the API server does', () => {
  const s = only('apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {a: eA==, b: eQ==}\nstringData: {b: "héllo", c: z}\n');
  assert.equal(s.data, { a: 'eA==', b: 'aMOpbGxv', c: 'eg==' });
  assert.is(s.stringData, undefined);
});

test('image pull policy follows the tag', () => {
  assert.is(defaultPullPolicy('nginx'), 'Always');
  assert.is(defaultPullPolicy('nginx:latest'), 'Always');
  assert.is(defaultPullPolicy('nginx:1.25'), 'IfNotPresent');
  assert.is(defaultPullPolicy('localhost:5000/nginx'), 'Always');
  assert.is(defaultPullPolicy('localhost:5000/nginx:1'), 'IfNotPresent');
  assert.is(defaultPullPolicy('nginx@sha256:abc'), 'IfNotPresent');
});

test('defaulting does not mutate its input', () => {
  const input: KubeObject = {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' },
    spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'c' }] } } },
  };
  const snapshot = JSON.stringify(input);
  const out = applyDefaults(input);
  assert.is(JSON.stringify(input), snapshot);
  assert.is(out.spec.replicas, 1);
  assert.is.not(out.spec.template, input.spec.template);
});

test('loading does not mutate the files it is given', () => {
  const files = [{ path: 'a.yaml', content: 'apiVersion: v1\nkind: Namespace\nmetadata: {name: n}\n' }];
  const snapshot = JSON.stringify(files);
  load(files[0].content);
  assert.is(JSON.stringify(files), snapshot);
});

const keptOnly = (yaml: string) => {
  const r = load(yaml);
  assert.equal(r.issues.filter((i) => i.severity === 'error'), []);
  return r.objects[0].object;
};

test('the API server defaults of kinds convergit keeps: StatefulSet, DaemonSet, Job, CronJob, StorageClass, NetworkPolicy', () => {
  const tmpl = 'template:\n    metadata: {labels: {app: a}}\n    spec:\n      containers: [{name: c, image: "a:1"}]\n';
  const sts = keptOnly(`apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: s}\nspec:\n  serviceName: s\n  selector: {matchLabels: {app: a}}\n  ${tmpl}`);
  assert.equal([sts.spec.replicas, sts.spec.podManagementPolicy, sts.spec.updateStrategy, sts.spec.revisionHistoryLimit, sts.spec.persistentVolumeClaimRetentionPolicy],
    [1, 'OrderedReady', { type: 'RollingUpdate', rollingUpdate: { partition: 0 } }, 10, { whenDeleted: 'Retain', whenScaled: 'Retain' }]);
  const ds = keptOnly(`apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: d}\nspec:\n  selector: {matchLabels: {app: a}}\n  ${tmpl}`);
  assert.equal(ds.spec.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
  const jobTmpl = 'template:\n    spec:\n      restartPolicy: Never\n      containers: [{name: c, image: "a:1"}]\n';
  const job = keptOnly(`apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec:\n  ${jobTmpl}`);
  assert.equal([job.spec.parallelism, job.spec.completions, job.spec.backoffLimit, job.spec.completionMode, job.spec.suspend], [1, 1, 6, 'NonIndexed', false]);
  const queue = keptOnly(`apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec:\n  parallelism: 3\n  ${jobTmpl}`);
  assert.is(queue.spec.completions, undefined, 'a work queue Job has no completions');
  const cj = keptOnly(`apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec:\n  schedule: "*/5 * * * *"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: OnFailure\n          containers: [{name: c, image: "a:1"}]\n`);
  assert.equal([cj.spec.concurrencyPolicy, cj.spec.successfulJobsHistoryLimit, cj.spec.failedJobsHistoryLimit, cj.spec.jobTemplate.spec.backoffLimit], ['Allow', 3, 1, 6]);
  const sc = keptOnly('apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: local}\nprovisioner: rancher.io/local-path\n');
  assert.equal([sc.reclaimPolicy, sc.volumeBindingMode], ['Delete', 'Immediate']);
  const np = keptOnly('apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: n}\nspec:\n  podSelector: {}\n  egress: [{}]\n');
  assert.equal(np.spec.policyTypes, ['Ingress', 'Egress']);
});

test.run();
