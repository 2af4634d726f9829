// Podman networks never leak nor collide between convergit instances: each is labelled with its data folder; a
// network whose folder is gone, or records other blocks now, is removed before another instance makes one on its
// subnet (an older convergit's network, labelled with its instance only, when it is on the subnet wanted); a live
// folder's network is never touched, and a create it still blocks names it. removeAll (`convergit stop`) leaves no
// network, bridge or masquerade rule of the instance.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PodmanRuntime } from '../../src/node/runtime/podman/podman.ts';
import { folderHoldsSubnet } from '../../src/cli/address-blocks.ts';
import { interfaces, natPostrouting, podmanMissing, podmanNetworks, removeInstance, removeLeftoverNetworks } from '../support/podman.ts';

const missing = podmanMissing();
if (missing) {
  console.log(`podman-networks: skipped, ${missing}`);
} else {
  let root = '';
  const runtimes: PodmanRuntime[] = [];
  const folders: string[] = [];
  const logs: string[] = [];

  /** A runtime serving data folder `name` (made), as serve makes it: labelled, stale networks swept. */
  const runtime = async (name: string) => {
    const dataDir = join(root, name);
    mkdirSync(dataDir, { recursive: true });
    folders.push(dataDir);
    const rt = await PodmanRuntime.create({ stateDir: join(dataDir, 'podman'), dataDir, networkOwners: { folderOf: () => undefined, holds: folderHoldsSubnet }, log: (m) => logs.push(m) });
    runtimes.push(rt);
    return { rt, dataDir };
  };
  const sandbox = (rt: PodmanRuntime, cidr: string, n: number) => rt.createSandbox({
    id: `default/p${n}`, uid: `00000000-0000-0000-0000-00000000000${n}`, podCIDR: cidr, ip: cidr.replace(/0\/24$/, '5'), hostNetwork: false, hostPorts: [],
  });
  const networks = () => podmanNetworks();
  const networkOf = (rt: PodmanRuntime, cidr: string) => networks().find((n) => n.labels?.['convergit.instance'] === rt.instance && n.subnets?.[0]?.subnet === cidr);
  const links = interfaces;
  const natRules = () => natPostrouting().join('\n');

  test.before(() => {
    removeLeftoverNetworks('10-239-');
    root = mkdtempSync(join(tmpdir(), 'convergit-podman-networks-'));
  });

  test.after(async () => {
    for (const rt of runtimes) await rt.close().catch(() => {});
    for (const d of folders) removeInstance(d);
    spawnSync('podman', ['network', 'rm', '-f', 'convergit-0ld1nst4-10-239-1-0-24']);
    removeLeftoverNetworks('10-239-');
    rmSync(root, { recursive: true, force: true });
  });

  test('a network is labelled with its data folder; the folder removed, the next instance on its subnet removes it (bridge and masquerade rule too)', async () => {
    const a = await runtime('a');
    const pod = await sandbox(a.rt, '10.239.0.0/24', 1);
    const left = networkOf(a.rt, '10.239.0.0/24');
    assert.ok(left, 'made');
    assert.is(left!.labels?.['convergit.data-dir'], a.dataDir);
    assert.ok(links().includes(left!.network_interface), 'its bridge is up here');
    assert.match(natRules(), `convergit:${left!.name}`);
    // As a killed serve's teardown left it: the pod gone, the network not, then the folder removed.
    await a.rt.removeSandbox(pod);
    rmSync(a.dataDir, { recursive: true });
    const b = await runtime('b');
    await sandbox(b.rt, '10.239.0.0/24', 2);
    assert.ok(networkOf(b.rt, '10.239.0.0/24'), 'the new instance has its network');
    assert.is(networkOf(a.rt, '10.239.0.0/24'), undefined, 'the stale one is gone');
    assert.ok(logs.some((l) => l.includes(`removed the stale network ${left!.name} (10.239.0.0/24): its data folder ${a.dataDir} no longer exists`)), logs.join('\n'));
    assert.not.match(natRules(), `convergit:${left!.name}`);
  });

  test('an older convergit\'s network (its instance only) on the subnet wanted is removed; a live folder\'s is never touched, and a create it blocks names it', async () => {
    execFileSync('podman', ['network', 'create', '--subnet', '10.239.1.0/24', '--label', 'convergit.instance=0ld1nst4', 'convergit-0ld1nst4-10-239-1-0-24']);
    const live = await runtime('live');
    await sandbox(live.rt, '10.239.2.0/24', 3);
    const b = await runtime('b2');
    await sandbox(b.rt, '10.239.1.0/24', 4);
    assert.ok(networkOf(b.rt, '10.239.1.0/24'));
    assert.ok(!networks().some((n) => n.name === 'convergit-0ld1nst4-10-239-1-0-24'), 'the older one is gone');
    assert.ok(networkOf(live.rt, '10.239.2.0/24'), 'the live folder\'s network stays');
    // The live folder holds 10.239.2.0/24 (no serve runs on it: its pods may coast): another instance cannot take it.
    const c = await runtime('c');
    await sandbox(c.rt, '10.239.2.0/24', 5).then(() => assert.unreachable('made'), (e) => {
      assert.match(e.message, /creating the bridge for 10\.239\.2\.0\/24: .*already used/);
      assert.match(e.message, `podman network ${networkOf(live.rt, '10.239.2.0/24')!.name} (10.239.2.0/24, of the data folder ${live.dataDir}, which holds it`);
    });
    assert.ok(networkOf(live.rt, '10.239.2.0/24'), 'still there');
  });

  test('a network whose folder records other address blocks now is stale', async () => {
    const e = await runtime('moved');
    const pod = await sandbox(e.rt, '10.239.3.0/24', 6);
    await e.rt.removeSandbox(pod);
    writeFileSync(join(e.dataDir, 'addresses.json'), JSON.stringify({ clusterCIDR: '10.238.0.0/16', serviceCIDR: '10.237.0.0/16' }));
    const f = await runtime('f');
    await sandbox(f.rt, '10.239.3.0/24', 7);
    assert.is(networkOf(e.rt, '10.239.3.0/24'), undefined);
    assert.ok(logs.some((l) => l.includes(`its data folder ${e.dataDir} records other address blocks now`)), logs.join('\n'));
  });

  test('removeAll (convergit stop) leaves no network, bridge or masquerade rule of the instance, and says what podman refused', async () => {
    const g = await runtime('g');
    await sandbox(g.rt, '10.239.4.0/24', 8);
    const made = networkOf(g.rt, '10.239.4.0/24')!;
    assert.equal(await g.rt.removeAll(), []);
    assert.is(networkOf(g.rt, '10.239.4.0/24'), undefined);
    assert.not.ok(links().includes(made.network_interface), 'its bridge is gone');
    assert.not.match(natRules(), `convergit:${made.name}`);
  });

  test.run();
}
