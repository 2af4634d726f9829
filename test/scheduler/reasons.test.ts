// The "fits nowhere" message, word for word as kube-scheduler prints it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fitErrorMessage } from '../../src/scheduler/reasons.ts';

const cases: [string, number, Record<string, string[]>, string][] = [
  ['one reason on every node', 2, { a: ['Insufficient memory'], b: ['Insufficient memory'] }, '0/2 nodes are available: 2 Insufficient memory.'],
  ['reasons counted and sorted', 3, {
    a: ["node(s) didn't match Pod's node affinity/selector"],
    b: ['Insufficient cpu'],
    c: ["node(s) didn't match Pod's node affinity/selector"],
  }, "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node affinity/selector."],
  ['a node with two shortages counts in both', 2, { a: ['Insufficient cpu', 'Insufficient memory'], b: ['Insufficient memory'] },
    '0/2 nodes are available: 1 Insufficient cpu, 2 Insufficient memory.'],
  // Kubernetes sorts the "<count> <reason>" strings as text, so counts compare digit by digit.
  ['sorted as text, like Kubernetes', 12, Object.fromEntries([
    ...Array.from({ length: 10 }, (_, i) => [`a${i}`, ['node(s) were unschedulable']]),
    ['b0', ['Insufficient cpu']], ['b1', ['Insufficient cpu']],
  ]), '0/12 nodes are available: 10 node(s) were unschedulable, 2 Insufficient cpu.'],
];

for (const [name, n, reasons, want] of cases) {
  test(name, () => { assert.is(fitErrorMessage(n, reasons), want); });
}

test.run();
