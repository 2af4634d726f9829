// Machine-wide address blocks: data folders get disjoint blocks (also when serves start at the same instant, in
// separate processes), keep them across restarts, free them with stop or removal; a clash is refused, naming it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { blocksDir, candidates, folderHoldsSubnet, machineDir, podmanReservationFolders, releaseAddressBlocks, reserveAddressBlocks, type AddressBlocks } from '../../src/cli/address-blocks.ts';
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
  assert.is(readdirSync(blocksDir('process', machine)).filter((n) => n.endsWith('.json')).length, 1);
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
  assert.equal(readdirSync(blocksDir('process', machine)).filter((n) => n.endsWith('.json')), [], 'no reservation');
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

test('the process runtime\'s folder is per network namespace, podman\'s one for the machine (the user\'s, rootless); the environment moves both', () => {
  assert.match(machineDir({ CONVERGIT_RUNTIME_DIR: '/x' }), /^\/x\/net-(\d+|host)\/address-blocks$/);
  assert.match(machineDir({ XDG_RUNTIME_DIR: '/run/user/1000' }), /^\/run\/user\/1000\/convergit\/net-/);
  assert.is(blocksDir('podman', '/x'), '/x/podman/address-blocks');
});

test('podman blocks are reserved across network namespaces: a serve in another namespace never gets the same', async () => {
  // Two namespaces: this one, and a child `unshare -n` (root only; else the same test in this one).
  const script = `import('${new URL('../../src/cli/address-blocks.ts', import.meta.url).pathname}').then(async (m) => console.log(JSON.stringify(await m.reserveAddressBlocks(process.argv[1], process.argv[3], {}, process.argv[2]))))`;
  const run = (dir: string, family: string, unshare: boolean) => promisify(execFile)(unshare ? 'unshare' : process.execPath,
    [...(unshare ? ['-n', process.execPath] : []), '--import', 'tsx', '-e', script, dir, machine, family]).then((r) => JSON.parse(r.stdout) as AddressBlocks);
  const isRoot = process.getuid?.() === 0;
  const a = await run(folder('a'), 'podman', false), b = await run(folder('b'), 'podman', isRoot);
  assert.equal(a, candidates('podman')[0]);
  assert.ok(disjoint(a, b), JSON.stringify([a, b]));
  // The process runtime's loopback blocks are the namespace's own: each namespace's first serve gets the defaults.
  if (isRoot) assert.equal([await run(folder('c'), 'process', false), await run(folder('d'), 'process', true)], [candidates('process')[0], candidates('process')[0]]);
  assert.equal(podmanReservationFolders(machine).sort(), [path.join(root, 'a'), path.join(root, 'b')]);
});

test('podman blocks an older convergit reserved per network namespace are still held, and moved to the machine-wide folder', async () => {
  // As an older serve in another namespace left it: the data folder's record and its reservation there.
  const old = folder('old');
  const blocks = candidates('podman')[0];
  writeFileSync(path.join(old, 'addresses.json'), JSON.stringify(blocks));
  const nsDir = path.join(machine, 'net-1', 'address-blocks');
  mkdirSync(nsDir, { recursive: true });
  writeFileSync(path.join(nsDir, 'oldreservation.json'), JSON.stringify({ dataDir: old, ...blocks }));
  const fresh = await reserveAddressBlocks(folder('fresh'), 'podman', {}, machine);
  assert.ok(disjoint(fresh, blocks), JSON.stringify(fresh));
  assert.is(existsSync(path.join(nsDir, 'oldreservation.json')), false, 'moved');
  assert.equal(await reserveAddressBlocks(old, 'podman', {}, machine), blocks, 'the old folder keeps its blocks');
  assert.ok(podmanReservationFolders(machine).includes(old));
  assert.equal(await releaseAddressBlocks(old, machine), { dataDir: old, ...blocks }, 'stop frees it from the machine-wide folder');
});

test('a data folder holds a subnet while it exists and its recorded cluster block contains it', async () => {
  const a = folder('a');
  assert.ok(folderHoldsSubnet(a, '10.250.0.0/24'), 'nothing recorded: held (not known otherwise)');
  await reserveAddressBlocks(a, 'podman', { clusterCIDR: '10.250.0.0/16', serviceCIDR: '10.120.0.0/16' }, machine);
  assert.ok(folderHoldsSubnet(a, '10.250.3.0/24'));
  assert.not.ok(folderHoldsSubnet(a, '10.251.0.0/24'), 'records other blocks');
  rmSync(a, { recursive: true });
  assert.not.ok(folderHoldsSubnet(a, '10.250.3.0/24'), 'gone');
});

test.run();
