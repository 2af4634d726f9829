import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../src/model/object.ts';
import { compareForDeletion, podsToDelete } from '../../src/controllers/scale-down.ts';

interface P { node?: boolean; phase?: string; ready?: string; restarts?: number; created?: string }

/** A pod in a given state; `ready` is the Ready condition's lastTransitionTime (absent: not ready). */
function pod(name: string, p: P): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: 'default', creationTimestamp: p.created ?? '2024-05-01T10:00:00Z' },
    spec: { containers: [{ name: 'c', image: 'x' }], ...(p.node && { nodeName: 'n1' }) },
    status: {
      phase: p.phase ?? 'Pending',
      conditions: [{ type: 'Ready', status: p.ready ? 'True' : 'False', ...(p.ready && { lastTransitionTime: p.ready }) }],
      containerStatuses: [{ name: 'c', restartCount: p.restarts ?? 0 }],
    },
  };
}

const names = (pods: KubeObject[]) => pods.map((p) => p.metadata.name);
const running = { node: true, phase: 'Running' };

test('each rule in turn: unscheduled, pending, not ready, ready briefly, restarting, newest', () => {
  const pods = [
    pod('old-ready', { ...running, ready: '2024-05-01T09:00:00Z' }),
    pod('new-ready', { ...running, ready: '2024-05-01T10:30:00Z' }),
    pod('restarting', { ...running, restarts: 4 }),
    pod('not-ready-old', { ...running, created: '2024-05-01T09:00:00Z' }),
    pod('not-ready-new', { ...running, created: '2024-05-01T10:10:00Z' }),
    pod('unknown', { node: true, phase: 'Unknown' }),
    pod('pending', { node: true, phase: 'Pending' }),
    pod('unscheduled', {}),
  ];
  const order = names([...pods].sort(compareForDeletion));
  assert.equal(order, ['unscheduled', 'pending', 'unknown', 'restarting', 'not-ready-new', 'not-ready-old', 'new-ready', 'old-ready']);
});

test('podsToDelete takes the first choices and leaves its input alone', () => {
  const pods = [pod('ready', { ...running, ready: '2024-05-01T09:00:00Z' }), pod('starting', running), pod('waiting', {})];
  assert.equal(names(podsToDelete(pods, 2)), ['waiting', 'starting']);
  assert.equal(names(pods), ['ready', 'starting', 'waiting']);
  assert.equal(podsToDelete(pods, 0), []);
  assert.equal(names(podsToDelete(pods, 5)), ['waiting', 'starting', 'ready']);
});

test('among equally ready pods, those doubled up on a node go first, keeping the workload spread', () => {
  const on = (name: string, node: string, ready: string) => {
    const p = pod(name, { ...running, ready });
    p.spec.nodeName = node;
    return p;
  };
  // n1 holds three, n2 one: even the newest pod, alone on n2, stays.
  const pods = [on('a1', 'n1', '2024-05-01T09:00:00Z'), on('a2', 'n1', '2024-05-01T09:00:00Z'), on('a3', 'n1', '2024-05-01T09:00:00Z'), on('b1', 'n2', '2024-05-01T10:30:00Z')];
  assert.equal(names(podsToDelete(pods, 2)), ['a1', 'a2']);
});

test('ties are broken by name, so the choice is repeatable', () => {
  const a = pod('a', running), b = pod('b', running);
  assert.equal(names(podsToDelete([b, a], 1)), ['a']);
  assert.equal(names(podsToDelete([a, b], 1)), ['a']);
});

test.run();
