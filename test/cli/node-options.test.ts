// The node flags' parsers: taints as kubelet spells them, per-node values, the pods' cpu.shares, and clear errors for bad ones.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cpuShares, durationOrZero, labels, perNode, taints } from '../../src/cli/options.ts';

test('--node-taints: key=value:Effect, value optional, several comma-separated', () => {
  assert.equal(taints('dedicated=gpu:NoSchedule,spot:PreferNoSchedule'), [
    { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' },
    { key: 'spot', effect: 'PreferNoSchedule' },
  ]);
  assert.throws(() => taints('dedicated=gpu'), /"dedicated=gpu" is not a taint such as dedicated=gpu:NoSchedule/);
  assert.throws(() => taints('a=b:NoRun'), /is not a taint/);
});

test('--label-node / --taint-node: collected per node name, repeatable; a value without a node name is refused', () => {
  const byNode = perNode(labels);
  let acc = byNode('box-1:zone=a');
  acc = byNode('box-2:zone=b,disk=ssd', acc);
  acc = byNode('box-1:rack=r1', acc);
  assert.equal(acc, { 'box-1': [{ zone: 'a' }, { rack: 'r1' }], 'box-2': [{ zone: 'b', disk: 'ssd' }] });
  assert.equal(perNode(taints)('box-3:dedicated=infra:NoSchedule'), { 'box-3': [[{ key: 'dedicated', value: 'infra', effect: 'NoSchedule' }]] });
  assert.throws(() => byNode('zone=a'), /does not start with a node name and a colon/);
  assert.throws(() => byNode('Box_1:zone=a'), /does not start with a node name and a colon/);
  assert.throws(() => byNode('box-1:-zone=a'), /"-zone=a" is not a label such as disk=ssd/);
});

test('--pods-cpu-shares: 0 (none) or a cpu.shares value the kernel takes, 2 to 262144', () => {
  assert.equal([cpuShares('0'), cpuShares('2'), cpuShares('1024'), cpuShares('262144')], [0, 2, 1024, 262144]);
  for (const bad of ['1', '262145', '-5', '1.5', 'half']) assert.throws(() => cpuShares(bad), new RegExp(`"${bad.replace('.', '\\.')}" is not 0 or a cpu.shares value from 2 to 262144`));
});

test('--endpoint-updates-batch-period: a duration, or 0 for none', () => {
  assert.equal([durationOrZero('0'), durationOrZero('0s'), durationOrZero('100ms'), durationOrZero('1s')], [0, 0, 100, 1000]);
  for (const bad of ['-1s', 'soon', '']) assert.throws(() => durationOrZero(bad), new RegExp(`"${bad}" is not a duration such as 30s`));
});

test.run();
