// Machine-wide address blocks: data folders get disjoint blocks (also when serves start at the same instant, in
// separate processes), keep them across restarts, free them with stop or removal; a clash is refused, naming it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { candidates, machineDir, releaseAddressBlocks, reserveAddressBlocks, type AddressBlocks } from '../../src/cli/address-blocks.ts';
import { cidrsOverlap } from '../../src/network/local-route.ts';

let root: string, machine: string;
const folder = (name: string) => { const d = path.join(root, name); mkdirSync(d, { recursive: true }); return d; };
const disjoint = (a: AddressBlocks, b: AddressBlocks) =>
  [a.clusterCIDR, a.serviceCIDR].every((x) => !cidrsOverlap(x, b.clusterCIDR) && !cidrsOverlap(x, b.serviceCIDR));

test.before.each(() => {
  root = mkdtempSync(path.join(tmpdir(), 'convergit-blocks-'));
  machine = path.join(root, 'machine');
});
test.after.each(() => rmSync(root, { recursive: true, force: true }));

test('the automatic blocks are pairwise disjoint; the first are the documented defaults', () => {
  for (const family of ['process', 'podman'] as const) {
    const all = candidates(family);
    for (let i = 0; i < all.length; i++) {
      assert.ok(!cidrsOverlap(all[i].clusterCIDR, all[i].serviceCIDR));
      for (let j = i + 1; j < all.length; j++) assert.ok(disjoint(all[i], all[j]), `${family} ${i} ${j}`);
    }
  }
  assert.equal(candidates('process')[0], { clusterCIDR: '127.1.0.0/16', serviceCIDR: '127.2.0.0/16' });
  assert.equal(candidates('podman')[0], { clusterCIDR: '10.244.0.0/16', serviceCIDR: '10.96.0.0/16' });
});

test('two folders get disjoint blocks; a restart keeps its own even after the other frees the first', async () => {
  const a = folder('a'), b = folder('b');
  const ba = await reserveAddressBlocks(a, 'process', {}, machine);
  const bb = await reserveAddressBlocks(b, 'process', {}, machine);
  assert.equal(ba, candidates('process')[0]);
  assert.ok(disjoint(ba, bb), JSON.stringify([ba, bb]));
  assert.equal(await reserveAddressBlocks(b, 'process', {}, machine), bb, 'restart: the same blocks');
  assert.equal(await releaseAddressBlocks(a, machine), { dataDir: a, ...ba });
  assert.equal(await reserveAddressBlocks(b, 'process', {}, machine), bb, 'not moved to the freed ones');
  const c = folder('c');
  assert.equal(await reserveAddressBlocks(c, 'process', {}, machine), ba, 'freed blocks are given again');
  // a's record is kept: its next serve asks for them first, but c holds them now, so it gets others.
  const again = await reserveAddressBlocks(a, 'process', {}, machine);
  assert.ok(disjoint(again, bb) && disjoint(again, ba));
});

test('a removed data folder frees its blocks', async () => {
  const a = folder('a'), b = folder('b');
  const ba = await reserveAddressBlocks(a, 'process', {}, machine);
  rmSync(a, { recursive: true });
  assert.equal(await reserveAddressBlocks(b, 'process', {}, machine), ba);
  assert.is(readdirSync(machine).filter((n) => n.endsWith('.json')).length, 1);
});

test('explicit flags override and are recorded; a clash with another folder is refused, naming it', async () => {
  const a = folder('a'), b = folder('b');
  await reserveAddressBlocks(a, 'process', {}, machine);
  const given = await reserveAddressBlocks(b, 'process', { clusterCIDR: '127.50.0.0/16', serviceCIDR: '127.51.0.0/24' }, machine);
  assert.equal(given, { clusterCIDR: '127.50.0.0/16', serviceCIDR: '127.51.0.0/24' });
  assert.equal(await reserveAddressBlocks(b, 'process', {}, machine), given, 'kept without the flags');
  const c = folder('c');
  await reserveAddressBlocks(c, 'process', { clusterCIDR: '127.1.0.0/16', serviceCIDR: '127.60.0.0/16' }, machine).then(
    () => assert.unreachable('not refused'),
    (e) => {
      assert.match(e.message, /--cluster-cidr 127\.1\.0\.0\/16 .* overlap the blocks of another convergit: data folder .*\/a \(no serve runs on it now/);
      assert.match(e.message, /convergit stop --data-dir/);
    });
  // Only one flag: the other block is an automatic one that fits.
  const half = await reserveAddressBlocks(c, 'process', { serviceCIDR: '127.70.0.0/16' }, machine);
  assert.is(half.serviceCIDR, '127.70.0.0/16');
  assert.ok(!cidrsOverlap(half.clusterCIDR, '127.1.0.0/16') && !cidrsOverlap(half.clusterCIDR, '127.50.0.0/16'));
});

test('a service CIDR overlapping the cluster CIDR is refused before anything is recorded', async () => {
  const a = folder('a');
  await reserveAddressBlocks(a, 'process', { serviceCIDR: '127.1.0.0/16' }, machine).then(
    () => assert.unreachable('not refused'),
    (e) => assert.match(e.message, '--service-cidr 127.1.0.0/16 overlaps the cluster CIDR 127.1.0.0/16: give disjoint ranges'));
  assert.equal(readdirSync(machine).filter((n) => n.endsWith('.json')), [], 'no reservation');
  assert.equal(readdirSync(a), [], 'no record in the data folder');
  assert.equal(await reserveAddressBlocks(folder('b'), 'process', {}, machine), candidates('process')[0], 'the defaults are still free');
});

test('folders reserving at the same instant from separate processes get disjoint blocks (the machine lock)', async () => {
  const run = promisify(execFile);
  const script = `import('${new URL('../../src/cli/address-blocks.ts', import.meta.url).pathname}').then(async (m) => console.log(JSON.stringify(await m.reserveAddressBlocks(process.argv[1], 'process', {}, process.argv[2]))))`;
  const results = await Promise.all(Array.from({ length: 3 }, (_, i) =>
    run(process.execPath, ['--import', 'tsx', '-e', script, folder(`p${i}`), machine]).then((r) => JSON.parse(r.stdout) as AddressBlocks)));
  for (let i = 0; i < results.length; i++) for (let j = i + 1; j < results.length; j++) assert.ok(disjoint(results[i], results[j]), JSON.stringify(results));
});

test('the machine folder is per network namespace and can be moved by the environment', () => {
  assert.match(machineDir({ CONVERGIT_RUNTIME_DIR: '/x' }), /^\/x\/net-(\d+|host)\/address-blocks$/);
  assert.match(machineDir({ XDG_RUNTIME_DIR: '/run/user/1000' }), /^\/run\/user\/1000\/convergit\/net-/);
});

test.run();
