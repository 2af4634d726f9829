import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { applyDefaults, defaultPullPolicy, podDefaultsAdmission } from '../../src/manifests/defaults.ts';
import type { KubeObject } from '../../src/model/object.ts';
import { load } from './helpers.ts';

const only = (yaml: string) => {
  const r = load(yaml);
  assert.equal(r.issues, []);
  return r.objects[0].object;
};
/** The defaulted object of a document that loads (warnings about fields convergit does not act on aside). */
const loaded = (yaml: string) => {
  const r = load(yaml);
  assert.equal(r.issues.filter((i) => i.severity === 'error'), []);
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
      livenessProbe: { httpGet: { port: 80, scheme: 'HTTP', path: '/' }, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 },
      imagePullPolicy: 'Always',
      terminationMessagePath: '/dev/termination-log',
      terminationMessagePolicy: 'File',
    }],
    restartPolicy: 'Always',
    terminationGracePeriodSeconds: 30,
    dnsPolicy: 'ClusterFirst',
    securityContext: {},
    schedulerName: 'default-scheduler',
  });
  assert.is(template.spec.enableServiceLinks, undefined, 'enableServiceLinks is a Pod default, not a template one');
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
  assert.equal(svc.spec, { ports: [{ name: 'a', port: 80, protocol: 'TCP', targetPort: 80 }, { name: 'b', port: 81, targetPort: 'web', protocol: 'UDP' }], type: 'ClusterIP', sessionAffinity: 'None', internalTrafficPolicy: 'Cluster' });
  assert.is(only('apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n').type, 'Opaque');
  assert.is(only('apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ntype: kubernetes.io/tls\n').type, 'kubernetes.io/tls');
  const ns = only('apiVersion: v1\nkind: Namespace\nmetadata: {name: ns1}\n');
  assert.is(ns.metadata.namespace, undefined, 'cluster-scoped objects get no namespace');
  assert.equal(ns.metadata.labels, { 'kubernetes.io/metadata.name': 'ns1' }, 'the API server labels every Namespace with its name');
});

test('Pod-only defaults: service links, requests from limits, host ports on the host network', () => {
  const pod = only('apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostNetwork: true\n  containers:\n    - name: c\n      image: c\n      ports: [{containerPort: 8080}]\n      resources: {limits: {cpu: 500m, memory: 1Gi}, requests: {cpu: 100m}}\n');
  assert.is(pod.spec.enableServiceLinks, true);
  assert.equal(pod.spec.containers[0].resources.requests, { cpu: '100m', memory: '1Gi' }, 'a request not written is the limit');
  assert.equal(pod.spec.containers[0].ports, [{ containerPort: 8080, protocol: 'TCP', hostPort: 8080 }]);
});

test('volume defaults: no source is an emptyDir, file modes 0644, downward fields in v1', () => {
  const pod = loaded('apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: c}]\n  volumes:\n    - name: scratch\n    - {name: cfg, configMap: {name: x}}\n    - {name: mode, secret: {secretName: s, defaultMode: 0400}}\n    - name: info\n      downwardAPI: {items: [{path: labels, fieldRef: {fieldPath: metadata.labels}}]}\n    - name: proj\n      projected: {sources: [{serviceAccountToken: {path: token}}]}\n');
  const [scratch, cfg, mode, info, proj] = pod.spec.volumes;
  assert.equal(scratch, { name: 'scratch', emptyDir: {} });
  assert.is(cfg.configMap.defaultMode, 0o644);
  assert.is(mode.secret.defaultMode, 0o400, 'a written mode is kept');
  assert.is(info.downwardAPI.items[0].fieldRef.apiVersion, 'v1');
  assert.is(proj.projected.defaultMode, 0o644);
});

test('Service traffic policies and session affinity follow the type', () => {
  const lb = loaded('apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {type: LoadBalancer, sessionAffinity: ClientIP, ports: [{port: 80, targetPort: 0}]}\n');
  assert.equal(lb.spec.sessionAffinityConfig, { clientIP: { timeoutSeconds: 10800 } });
  assert.is(lb.spec.externalTrafficPolicy, 'Cluster');
  assert.is(lb.spec.internalTrafficPolicy, 'Cluster');
  assert.is(lb.spec.allocateLoadBalancerNodePorts, true);
  assert.is(lb.spec.ports[0].targetPort, 80, 'targetPort 0 means the port');
  const ext = loaded('apiVersion: v1\nkind: Service\nmetadata: {name: e}\nspec: {type: ExternalName, externalName: example.com}\n');
  assert.is(ext.spec.internalTrafficPolicy, undefined, 'an ExternalName Service has no traffic policy');
  assert.is(ext.spec.externalTrafficPolicy, undefined);
});

test('RBAC subjects, HPA metrics and behavior, webhooks get the API server defaults', () => {
  const rb = loaded('apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: r}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: x}\nsubjects: [{kind: User, name: u}, {kind: ServiceAccount, name: sa}]\n');
  assert.equal(rb.subjects, [{ kind: 'User', name: 'u', apiGroup: 'rbac.authorization.k8s.io' }, { kind: 'ServiceAccount', name: 'sa', apiGroup: '' }]);
  const hpa = loaded('apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\nspec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: d}\n  maxReplicas: 5\n  behavior: {scaleDown: {stabilizationWindowSeconds: 60}}\n');
  assert.is(hpa.spec.minReplicas, 1);
  assert.equal(hpa.spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }]);
  assert.equal(hpa.spec.behavior.scaleDown, { stabilizationWindowSeconds: 60, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] });
  assert.is(hpa.spec.behavior.scaleUp.stabilizationWindowSeconds, 0);
  const wh: any = loaded('apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata: {name: w}\nwebhooks:\n  - name: a.example.com\n    clientConfig: {service: {name: s, namespace: ns}}\n    admissionReviewVersions: [v1]\n    sideEffects: None\n    rules: [{apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [pods]}]\n');
  const w = wh.webhooks[0];
  assert.equal([w.failurePolicy, w.matchPolicy, w.timeoutSeconds, w.clientConfig.service.port, w.rules[0].scope], ['Fail', 'Equivalent', 10, 443, '*']);
  assert.is(w.reinvocationPolicy, undefined, 'only mutating webhooks are reinvoked');
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
  const files = [{ path: 'a.yaml', content: 'apiVersion: v1\nkind: Namespace\nmetadata: {name: ns1}\n' }];
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
  const np = keptOnly('apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: np}\nspec:\n  podSelector: {}\n  egress: [{}]\n');
  assert.equal(np.spec.policyTypes, ['Ingress', 'Egress']);
});

test.run();

test('pods a controller creates get the Pod defaults at admission, once', () => {
  const fromTemplate: KubeObject = {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-1', namespace: 'default' },
    spec: { containers: [{ name: 'c', image: 'c:1', resources: { limits: { cpu: '1' } } }], restartPolicy: 'Always', serviceAccount: 'builder' },
  };
  const admitted = podDefaultsAdmission(fromTemplate);
  assert.is(admitted.spec.enableServiceLinks, true);
  assert.equal([admitted.spec.serviceAccountName, admitted.spec.serviceAccount], ['builder', 'builder'], 'the deprecated alias names the account');
  assert.equal(admitted.spec.containers[0].resources.requests, { cpu: '1' });
  assert.is(fromTemplate.spec.enableServiceLinks, undefined, 'the input is not changed');
  assert.is(podDefaultsAdmission(admitted), admitted, 'an admitted pod passes as it is');
  const cm: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default' } };
  assert.is(podDefaultsAdmission(cm), cm);
  assert.is(loaded('apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: c}]}\n').spec.serviceAccountName, 'default');
});
