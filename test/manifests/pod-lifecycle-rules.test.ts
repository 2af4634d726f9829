// Kubernetes' validation of init containers, lifecycle hooks, termination messages and HorizontalPodAutoscalers:
// bad input refused with the file, line and field, and the good shapes accepted without a warning.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { brief, load, messages } from './helpers.ts';

const pod = (spec: string) => `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n${spec}`;

test('init containers, sidecars, hooks and termination messages: accepted when right, no warning', () => {
  const r = load(pod(`  initContainers:
    - {name: setup, image: x, terminationMessagePolicy: FallbackToLogsOnError}
    - name: proxy
      image: x
      restartPolicy: Always
      startupProbe: {exec: {command: ['true']}}
      lifecycle: {preStop: {sleep: {seconds: 2}}}
  containers:
    - name: app
      image: x
      terminationMessagePath: /tmp/why
      lifecycle: {postStart: {httpGet: {port: 80, path: /warm}}, preStop: {exec: {command: [sh, -c, 'sleep 1']}}}
`));
  assert.equal(r.issues, []);
});

test('init containers: unique names with the app containers, restartPolicy only Always and only there, no probes or hooks on a regular one', () => {
  const r = load(pod(`  initContainers:
    - {name: app, image: x}
    - {name: once, image: x, restartPolicy: OnFailure}
    - {name: probed, image: x, readinessProbe: {exec: {command: ['true']}}, lifecycle: {postStart: {exec: {command: ['true']}}}}
  containers:
    - {name: app, image: x, restartPolicy: Always}
`));
  for (const m of [
    'spec.initContainers[0].name: duplicate container name "app" (also in containers)',
    'spec.containers[0].restartPolicy: may not be set for non-init containers',
    'spec.initContainers[2].lifecycle: may not be set for init containers without restartPolicy=Always',
    'spec.initContainers[2].readinessProbe: may not be set for init containers without restartPolicy=Always',
  ]) assert.ok(messages(r).includes(m), `${m}\n in ${messages(r).join('\n')}`);
  assert.ok(messages(r).some((m) => m.startsWith('spec.initContainers[1].restartPolicy: ')), messages(r).join('\n'));
  assert.ok(r.issues.every((i) => i.severity === 'error' && i.file === 't.yaml' && i.line > 0));
});

test('hooks: one handler each, sleep of at least a second; terminationMessagePolicy File or FallbackToLogsOnError', () => {
  const r = load(pod(`  containers:
    - name: app
      image: x
      terminationMessagePolicy: Always
      lifecycle: {postStart: {}, preStop: {exec: {command: [x]}, sleep: {seconds: 0}}}
`));
  const m = messages(r);
  assert.ok(m.includes('spec.containers[0].lifecycle.postStart: must set one of exec, httpGet, sleep (or the deprecated tcpSocket)'), m.join('\n'));
  assert.ok(m.includes('spec.containers[0].lifecycle.preStop.sleep: may not be set together with exec; a hook has one handler'), m.join('\n'));
  assert.ok(m.some((x) => x.startsWith('spec.containers[0].lifecycle.preStop.sleep.seconds: ')), m.join('\n'));
  assert.ok(m.some((x) => x.startsWith('spec.containers[0].terminationMessagePolicy: ')), m.join('\n'));
});

test('HorizontalPodAutoscaler: maxReplicas at least minReplicas, a Resource target with its value, policies within range', () => {
  const r = load(`apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: h}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 3
  maxReplicas: 2
  metrics:
    - {type: Resource, resource: {name: cpu, target: {type: Utilization}}}
  behavior:
    scaleDown: {stabilizationWindowSeconds: 7200, policies: [{type: Pods, value: 0, periodSeconds: 15}]}
`);
  assert.equal(brief(r).filter((l) => l.startsWith('error')).map((l) => l.replace(/^error \d+:\d+ /, '').split(':')[0]).sort(), [
    'spec.behavior.scaleDown.policies[0].value',
    'spec.behavior.scaleDown.stabilizationWindowSeconds',
    'spec.maxReplicas',
    'spec.metrics[0].resource.target.averageUtilization',
  ]);
  assert.ok(messages(r).includes('spec.maxReplicas: must be greater than or equal to minReplicas (3)'), messages(r).join('\n'));
  assert.ok(brief(r).some((l) => l.startsWith('error 7:3 spec.maxReplicas')), brief(r).join('\n'));
});

test('HorizontalPodAutoscaler metrics other than Resource are real fields convergit does not act on: a warning', () => {
  const r = load(`apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: h}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  maxReplicas: 3
  metrics:
    - {type: Pods, pods: {metric: {name: rps}, target: {type: AverageValue, averageValue: '10'}}}
`);
  assert.equal(brief(r), ['warning 8:20 spec.metrics[0].pods: pods is a Kubernetes field that convergit does not implement; it is ignored']);
});

test.run();
