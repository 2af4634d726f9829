import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../src/model/object.ts';
import { podPhase, podStatus, type ContainerFacts, type Terminated } from '../../src/node/pod-status.ts';
import { podReady, podRestarts, podStatusText } from '../../src/api/tables.ts';

const T0 = '2024-05-01T10:00:00Z';
const T1 = '2024-05-01T10:00:05Z';
const ended = (exitCode: number, reason = exitCode === 0 ? 'Completed' : 'Error'): Terminated => ({ exitCode, reason, startedAt: T0, finishedAt: T1 });
const running = (name: string, ready = true): ContainerFacts => ({ name, state: { running: { startedAt: T0 } }, lastState: {}, ready, started: true, restartCount: 0 });
const exited = (name: string, code: number): ContainerFacts => ({ name, state: { terminated: ended(code) }, lastState: {}, ready: false, started: false, restartCount: 0 });
const backingOff = (name: string): ContainerFacts => ({
  name, state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 10s' } }, lastState: { terminated: ended(1) }, ready: false, started: false, restartCount: 1,
});

const pod = (restartPolicy?: string, names = ['web'], status: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', uid: 'u' },
  spec: { nodeName: 'n', restartPolicy, containers: names.map((name) => ({ name, image: `img-${name}` })) },
  status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: T0 }], ...status },
});

test('phase follows Kubernetes getPhase for each restart policy', () => {
  assert.is(podPhase('Always', [running('a'), backingOff('b')]), 'Running');
  assert.is(podPhase('Always', [{ ...running('a'), state: { waiting: { reason: 'ContainerCreating' } } }]), 'Pending');
  assert.is(podPhase('Always', [exited('a', 0)]), 'Running', 'Always: on its way back');
  assert.is(podPhase('Never', [exited('a', 0), exited('b', 0)]), 'Succeeded');
  assert.is(podPhase('Never', [exited('a', 0), exited('b', 2)]), 'Failed');
  assert.is(podPhase('Never', [exited('a', 0), running('b')]), 'Running');
  assert.is(podPhase('OnFailure', [exited('a', 0)]), 'Succeeded');
  assert.is(podPhase('OnFailure', [backingOff('a')]), 'Running', 'OnFailure: restarting the failed one');
  assert.is(podPhase('Always', [exited('a', 143)], true), 'Failed', 'terminal pods get a terminal phase');
  assert.is(podPhase('Always', [undefined]), 'Pending');
});

test('a running, ready pod: conditions, addresses, startTime, statuses sorted by name; PodScheduled kept', () => {
  const s: any = podStatus(pod('Always', ['web', 'sidecar']), {
    hostIP: '127.0.0.1', podIP: '127.1.0.4', startTime: T0,
    containers: [{ ...running('web'), containerID: 'process://42', imageID: 'img-web' }, running('sidecar')],
  }, T1);
  assert.is(s.phase, 'Running');
  assert.equal(s.conditions.map((c: any) => `${c.type}=${c.status}`), ['PodScheduled=True', 'Initialized=True', 'Ready=True', 'ContainersReady=True']);
  assert.is(s.conditions[0].lastTransitionTime, T0, 'the scheduler condition is untouched');
  assert.equal([s.hostIP, s.hostIPs, s.podIP, s.podIPs, s.startTime], ['127.0.0.1', [{ ip: '127.0.0.1' }], '127.1.0.4', [{ ip: '127.1.0.4' }], T0]);
  assert.equal(s.containerStatuses.map((c: any) => c.name), ['sidecar', 'web']);
  assert.equal(s.containerStatuses[1], {
    name: 'web', state: { running: { startedAt: T0 } }, lastState: {}, ready: true, restartCount: 0,
    image: 'img-web', imageID: 'img-web', containerID: 'process://42', started: true,
  });
});

test('unready and not-yet-created containers make Ready False with Kubernetes reason and message', () => {
  const s: any = podStatus(pod('Always', ['a', 'b', 'c']), { hostIP: 'h', containers: [running('a', false), running('b')] }, T1);
  const ready = s.conditions.find((c: any) => c.type === 'Ready');
  assert.equal([ready.status, ready.reason, ready.message], ['False', 'ContainersNotReady', 'containers with unready status: [a c]']);
  assert.equal(s.containerStatuses[2].state, { waiting: { reason: 'ContainerCreating' } });
  assert.is(s.phase, 'Pending', 'c is still being created');
});

test('an unchanged status keeps its transition times, so rewriting it is a no-op', () => {
  const facts = { hostIP: 'h', podIP: '127.1.0.2', startTime: T0, containers: [running('web')] };
  const first: any = podStatus(pod(), facts, T0);
  const again: any = podStatus({ ...pod(), status: first }, facts, T1);
  assert.equal(again, first);
});

test('finished pods: terminal phase is final and Ready is PodCompleted', () => {
  const s: any = podStatus(pod('Never'), { hostIP: 'h', containers: [exited('web', 0)] }, T1);
  assert.is(s.phase, 'Succeeded');
  assert.equal(s.conditions.find((c: any) => c.type === 'Ready').reason, 'PodCompleted');
  const later: any = podStatus({ ...pod('Never'), status: s }, { hostIP: 'h', containers: [running('web')] }, T1);
  assert.is(later.phase, 'Succeeded', 'never goes back');
});

test('init containers: getPhase and the STATUS, READY and RESTARTS kubectl prints while a pod initializes', () => {
  const withInits = (restartPolicy?: string): KubeObject => {
    const p = pod(restartPolicy);
    p.spec!.initContainers = [{ name: 'side', image: 'i', restartPolicy: 'Always' }, { name: 'a', image: 'i' }, { name: 'b', image: 'i' }];
    return p;
  };
  const sidecar = { sidecar: true, facts: running('side') };
  const status = (p: KubeObject, inits: ContainerFacts[], containers: ContainerFacts[] = []) => ({ ...p, status: podStatus(p, { hostIP: 'h', initContainers: inits, containers }, T1) }) as KubeObject;

  assert.is(podPhase('Always', [undefined], false, [sidecar, { sidecar: false, facts: running('a') }]), 'Pending', 'an init container still runs');
  assert.is(podPhase('Never', [undefined], false, [sidecar, { sidecar: false, facts: exited('a', 1) }]), 'Failed', 'Never: a failed init container fails the pod');
  assert.is(podPhase('Always', [running('web')], false, [{ sidecar: true, facts: { ...running('side'), started: false } }]), 'Running', 'a sidecar restarting beside running containers');
  assert.is(podPhase('Never', [exited('web', 0)], false, [{ sidecar: true, facts: exited('side', 143) }]), 'Succeeded', 'an ended sidecar does not count');

  const first = status(withInits(), [running('side'), running('a')]);
  assert.is(podStatusText(first), 'Init:1/3');
  assert.is(first.status.containerStatuses[0].state.waiting.reason, 'PodInitializing');
  const init = first.status.conditions.find((c: any) => c.type === 'Initialized');
  assert.equal([init.status, init.message], ['False', 'containers with incomplete status: [a b]']);
  assert.is(podStatusText(status(withInits(), [running('side'), backingOff('a')])), 'Init:CrashLoopBackOff');
  assert.is(podRestarts(status(withInits(), [running('side'), backingOff('a')])), 1);
  assert.is(podStatusText(status(withInits(), [running('side'), exited('a', 2)])), 'Init:Error');
  const initialized = status(withInits(), [running('side'), exited('a', 0), exited('b', 0)]);
  assert.is(podStatusText(initialized), 'PodInitializing');
  assert.is(initialized.status.initContainerStatuses[1].ready, true, 'a succeeded init container is ready');
  const up = status(withInits(), [running('side'), exited('a', 0), exited('b', 0)], [running('web')]);
  assert.is(podStatusText(up), 'Running');
  assert.is(podReady(up), '2/2', 'the sidecar counts with the app containers');
});

test.run();
