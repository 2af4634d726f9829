// Volumes on the process runtime: the container runs in a mount namespace of its own where its volumes are bind
// mounts (read-only when asked); its pid is the command's own, so re-adoption finds it; exec probes see what it
// sees; a missing mount path is made inside an overlay, never on the host; one that cannot be is refused.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ProcessRuntime } from '../../src/node/runtime/process.ts';
import { NAMESPACE_FLAGS, inMountNamespace } from '../../src/node/volumes/mount-namespace.ts';
import type { ContainerLaunch } from '../../src/node/runtime/runtime.ts';
import { until } from '../support/wait.ts';

let dir: string;
test.before.each(() => { dir = mkdtempSync(path.join(tmpdir(), 'convergit-mntns-')); });
test.after.each(() => rmSync(dir, { recursive: true, force: true }));

const launch = (script: string, mounts: ContainerLaunch['mounts']): ContainerLaunch => ({
  id: 'default/p/c', argv: ['sh', '-c', script], env: {}, cwd: dir, logFile: path.join(dir, 'logs', 'c', '0.log'), mounts,
});

test('volumes are bind mounts in the container\'s own namespace; missing mount paths never appear on the host; the pid is the command\'s', async () => {
  const vol = path.join(dir, 'vol');
  mkdirSync(vol);
  writeFileSync(path.join(vol, 'greeting'), 'hello');
  const root = path.join(dir, 'root'); // exists; its child "data" does not
  mkdirSync(root);
  const rt = new ProcessRuntime();
  const l = launch(`cat ${root}/data/greeting; echo; touch ${root}/ro/x 2>/dev/null || echo read-only; exec sleep 30`, [
    { hostPath: vol, containerPath: `${root}/data` },
    { hostPath: vol, containerPath: `${root}/ro`, readOnly: true },
  ]);
  const c = await rt.start(l);
  try {
    await until(() => readFileSync(l.logFile, 'utf8').includes('read-only'), 'the container to read its volume');
    assert.is(readFileSync(l.logFile, 'utf8'), 'hello\nread-only\n');
    assert.not.ok(existsSync(path.join(root, 'data')), 'the mount point was made on the host');
    await until(() => readlinkSync(`/proc/${c.pid}/exe`).endsWith('/sleep'), 'the recorded pid to be the command itself');
    assert.is.not(readlinkSync(`/proc/${c.pid}/ns/mnt`), readlinkSync('/proc/self/ns/mnt'));
    assert.is((c.record as any).pid, c.pid);
    const probe = await rt.exec(l, ['cat', `${root}/data/greeting`], 5000);
    assert.equal([probe.exitCode, probe.output], [0, 'hello']);
    // A working folder inside a volume is entered in the namespace, for exec too.
    const inVol = { ...l, cwd: `${root}/data` };
    assert.equal((await rt.exec(inVol, ['cat', 'greeting'], 5000)).output, 'hello');
    // Re-adopted by a new runtime (serve restarted): exec still runs inside the container's namespace.
    const again = new ProcessRuntime();
    const adopted = await again.adopt!(c.record!, l);
    assert.is(adopted?.pid, c.pid);
    assert.is((await again.exec(l, ['cat', `${root}/data/greeting`], 5000)).output, 'hello');
  } finally {
    await c.stop(1000);
  }
});

test('a working folder inside a volume exists only in the namespace: the container starts there, and the host has no such folder', async () => {
  const vol = path.join(dir, 'vol');
  mkdirSync(vol);
  writeFileSync(path.join(vol, 'greeting'), 'hello');
  const l = { ...launch('cat greeting; pwd', [{ hostPath: vol, containerPath: `${dir}/app/data` }]), cwd: `${dir}/app/data` };
  const c = await new ProcessRuntime().start(l);
  const exit = await c.exited;
  assert.equal([exit.reason, readFileSync(l.logFile, 'utf8')], ['Completed', `hello${dir}/app/data\n`]);
  assert.not.ok(existsSync(`${dir}/app`));
});

test('with volumes, a command that cannot run is still ContainerCannotRun, in spawn\'s words; one inside a volume runs', async () => {
  const vol = path.join(dir, 'vol');
  mkdirSync(vol);
  writeFileSync(path.join(vol, 'run.sh'), '#!/bin/sh\necho from the volume\n', { mode: 0o755 });
  const mounts = [{ hostPath: vol, containerPath: `${dir}/mnt` }];
  const rt = new ProcessRuntime();
  const exitOf = async (argv: string[]) => (await rt.start({ ...launch('', mounts), argv })).exited;
  const missing = await exitOf(['/convergit-nonexistent/program']);
  assert.equal([missing.reason, missing.message], ['ContainerCannotRun', 'exec: "/convergit-nonexistent/program": stat /convergit-nonexistent/program: no such file or directory']);
  const notOnPath = await exitOf(['convergit-no-such-cmd']);
  assert.equal([notOnPath.reason, notOnPath.message], ['ContainerCannotRun', 'exec: "convergit-no-such-cmd": executable file not found in $PATH']);
  writeFileSync(path.join(dir, 'plain.sh'), '#!/bin/sh\n');
  const denied = await exitOf(['./plain.sh']);
  assert.equal([denied.reason, denied.message], ['ContainerCannotRun', 'exec: "./plain.sh": permission denied']);
  // Only inside the namespace: not looked for on the host.
  const l = { ...launch('', mounts), argv: [`${dir}/mnt/run.sh`] };
  assert.is((await (await rt.start(l)).exited).reason, 'Completed');
  assert.is(readFileSync(l.logFile, 'utf8'), 'from the volume\n');
});

test('a mount path whose only existing folder above it is / cannot be made without changing the host: refused with the reason', async () => {
  const c = await new ProcessRuntime().start(launch('echo ran', [{ hostPath: dir, containerPath: `/convergit-no-such-${process.pid}/data` }]));
  const exit = await c.exited;
  assert.is(exit.reason, 'ContainerCannotRun');
  assert.match(exit.message!, `mount path /convergit-no-such-${process.pid}/data does not exist on this host`);
  assert.not.ok(existsSync(`/convergit-no-such-${process.pid}`));
});

test('a mount point made through an overlay of a folder whose name overlayfs options cannot hold (a comma, a colon): refused, saying which', async () => {
  for (const name of ['a,b', 'c:d']) {
    const above = path.join(dir, name);
    mkdirSync(above);
    const wrapped = await inMountNamespace(['true'], [{ hostPath: dir, containerPath: `${above}/new` }], '/', path.join(dir, 'scratch'));
    assert.equal(wrapped, { problem: `mount path ${above}/new does not exist on this host, and the process runtime makes it only inside an overlay of an existing folder above it, and ${above} has a character (, : \\ or ") overlayfs options cannot hold` });
    assert.not.ok(existsSync(`${above}/new`));
  }
});

test('mount points are made before the one mount of the list: inside a read-only volume, names with spaces; the hostname is set', async () => {
  const outer = path.join(dir, 'outer vol');
  mkdirSync(outer);
  const inner = path.join(dir, 'inner vol');
  mkdirSync(inner);
  writeFileSync(path.join(inner, 'greeting'), 'hello');
  const root = path.join(dir, 'root'); // exists; "my data" below it does not
  mkdirSync(root);
  const l: ContainerLaunch = {
    ...launch(`cat "${root}/my data/in ner/greeting"; echo; hostname; touch "${root}/my data/x" 2>/dev/null || echo read-only`, [
      { hostPath: inner, containerPath: `${root}/my data/in ner` },
      { hostPath: outer, containerPath: `${root}/my data`, readOnly: true },
    ]),
    hostname: 'web-0',
  };
  const exit = await (await new ProcessRuntime().start(l)).exited;
  assert.is(exit.reason, 'Completed', exit.message);
  assert.is(readFileSync(l.logFile, 'utf8'), 'hello\nweb-0\nread-only\n');
  assert.ok(existsSync(path.join(outer, 'in ner')), 'the inner mount point is made inside the outer volume, as runc does');
  assert.not.ok(existsSync(`${root}/my data`), 'nothing made on the host');
});

test('an overlay over a folder reached through a symlink is refused when the folder it leads to has mounts below it', async () => {
  if (process.getuid?.() !== 0) return console.log('notice: not root: the symlinked-overlay test is skipped');
  const real = path.join(dir, 'real');
  mkdirSync(path.join(real, 'm'), { recursive: true });
  symlinkSync(real, path.join(dir, 'link'));
  assert.is(spawnSync('mount', ['-t', 'tmpfs', 'tmpfs', path.join(real, 'm')]).status, 0, 'a host mount below the folder');
  try {
    const wrapped = await inMountNamespace(['true'], [{ hostPath: dir, containerPath: `${dir}/link/new/x` }], '/', path.join(dir, 'scratch'));
    assert.ok('problem' in wrapped, JSON.stringify(wrapped));
    assert.match((wrapped as { problem: string }).problem, `${dir}/link has mount points below it (${real}/m) that an overlay would hide`);
  } finally {
    spawnSync('umount', ['-l', path.join(real, 'm')]);
  }
});

test('a mount point inside another volume that passes through a symbolic link there is refused, and nothing is made where the link leads', async () => {
  const outer = path.join(dir, 'outer');
  const elsewhere = path.join(dir, 'elsewhere');
  mkdirSync(outer);
  mkdirSync(elsewhere);
  symlinkSync(elsewhere, path.join(outer, 'sub')); // written by a container into its volume
  const inner = path.join(dir, 'inner');
  mkdirSync(inner);
  const root = path.join(dir, 'root');
  mkdirSync(root);
  const wrapped = await inMountNamespace(['true'], [
    { hostPath: outer, containerPath: `${root}/data` },
    { hostPath: inner, containerPath: `${root}/data/sub/mnt` },
  ], '/', path.join(dir, 'scratch'));
  assert.equal(wrapped, { problem: `mount path ${root}/data/sub/mnt passes through a symbolic link out of the volume mounted at ${root}/data (${outer}/sub): not followed` });
  assert.equal(readdirSync(elsewhere), [], 'nothing made through the link');
  // A link that stays inside the volume (a configMap's names, through ..data) is followed, as runc's securejoin does.
  mkdirSync(path.join(outer, '..data', 'conf.d'), { recursive: true });
  symlinkSync('..data/conf.d', path.join(outer, 'conf.d'));
  const kept = await inMountNamespace(['true'], [
    { hostPath: outer, containerPath: `${root}/data` },
    { hostPath: inner, containerPath: `${root}/data/conf.d/extra` },
  ], '/', path.join(dir, 'scratch2'));
  assert.ok('argv' in kept, JSON.stringify(kept));
  assert.ok(existsSync(path.join(outer, '..data', 'conf.d', 'extra')), 'the mount point made inside the volume');
});

test('a read-only volume whose mount path is a mount point of the host (bound onto itself) is read-only inside, and only there', async () => {
  if (process.getuid?.() !== 0) return console.log('notice: not root: the host-mount-point test is skipped');
  const mp = path.join(dir, 'mounted');
  mkdirSync(mp);
  assert.is(spawnSync('mount', ['-t', 'tmpfs', 'tmpfs', mp]).status, 0, 'a host mount point to bind');
  // The same mount point named through a symlink (as /var/run is /run): libmount resolves it, so must the check.
  const link = path.join(dir, 'link');
  symlinkSync(mp, link);
  try {
    for (const containerPath of [mp, link]) {
      const l = launch(`touch ${containerPath}/x 2>/dev/null && echo writable || echo read-only`, [{ hostPath: mp, containerPath, readOnly: true }]);
      const exit = await (await new ProcessRuntime().start(l)).exited;
      assert.is(exit.reason, 'Completed', exit.message);
      assert.is(readFileSync(l.logFile, 'utf8'), 'read-only\n', containerPath);
      rmSync(l.logFile);
    }
    writeFileSync(path.join(mp, 'host'), 'still writable'); // the host's mount is not changed
  } finally {
    spawnSync('umount', ['-l', mp]);
  }
});

test('an overlay that makes a deeper mount point does not cover a shallower bind mount under the same folder', async () => {
  const root = path.join(dir, 'srv');
  mkdirSync(path.join(root, 'b'), { recursive: true }); // exists on the host; "new" does not
  const one = path.join(dir, 'one'), two = path.join(dir, 'two');
  mkdirSync(one);
  mkdirSync(two);
  writeFileSync(path.join(one, 'f'), '1');
  writeFileSync(path.join(two, 'f'), '2');
  const l = launch(`cat ${root}/b/f ${root}/new/c/f`, [
    { hostPath: one, containerPath: `${root}/b` },
    { hostPath: two, containerPath: `${root}/new/c` },
  ]);
  const exit = await (await new ProcessRuntime().start(l)).exited;
  assert.is(exit.reason, 'Completed', exit.message);
  assert.is(readFileSync(l.logFile, 'utf8'), '12');
  assert.not.ok(existsSync(`${root}/new`), 'nothing made on the host');
  // Two overlays, the deeper one's folder made first in the list of mounts: the shallower is mounted first.
  rmSync(l.logFile); // the same log file
  mkdirSync(path.join(root, 'b', 'keep'));
  const three = path.join(dir, 'three');
  mkdirSync(three);
  writeFileSync(path.join(three, 'f'), '3');
  const m = launch(`cat ${root}/b/n/f ${root}/x/y/z/f`, [
    { hostPath: three, containerPath: `${root}/b/n` }, // only /srv/b exists: an overlay over it
    { hostPath: two, containerPath: `${root}/x/y/z` }, // only /srv exists: an overlay over it, deeper in the list
  ]);
  const exit2 = await (await new ProcessRuntime().start(m)).exited;
  assert.is(exit2.reason, 'Completed', exit2.message);
  assert.is(readFileSync(m.logFile, 'utf8'), '32');
  assert.not.ok(existsSync(`${root}/b/n`) || existsSync(`${root}/x`), 'nothing made on the host');
});

test('a mount that fails stops the container before its command, naming the list of mounts', async () => {
  const vol = path.join(dir, 'vol');
  mkdirSync(vol);
  const wrapped = await inMountNamespace(['sh', '-c', 'echo ran'], [{ hostPath: vol, containerPath: `${dir}/m` }], '/', path.join(dir, 'scratch'));
  assert.ok('argv' in wrapped);
  // The volume's folder gone between the wrapping and the start (a pod torn down as its container starts).
  rmSync(vol, { recursive: true });
  const out = spawnSync(wrapped.argv[0], wrapped.argv.slice(1), { encoding: 'utf8' });
  assert.is(out.status, 128);
  assert.match(out.stderr, /convergit: mounting the volumes listed in .*\/scratch\/fstab failed/);
  assert.is(out.stdout, '');
});

test('a user other than root gets its volumes inside a user namespace of its own: bind mounts work, the host is unchanged', async () => {
  const nobody = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'true']);
  if (process.getuid?.() !== 0 || nobody.status !== 0) return console.log('notice: not root (or no setpriv): the non-root mount namespace test is skipped');
  chmodSync(dir, 0o755);
  const vol = path.join(dir, 'vol');
  mkdirSync(vol, { mode: 0o755 });
  writeFileSync(path.join(vol, 'greeting'), 'hello', { mode: 0o644 });
  const root = path.join(dir, 'root');
  mkdirSync(path.join(root, 'data'), { recursive: true, mode: 0o755 });
  const asNobody = (argv: string[]) => spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', ...argv], { cwd: '/', encoding: 'utf8' });
  // As nobody, a plain mount namespace is refused; the flags chosen second are what serve falls back to.
  assert.is.not(asNobody(['unshare', ...NAMESPACE_FLAGS[0], '--propagation', 'private', 'true']).status, 0);
  const scratch = path.join(dir, 'scratch');
  mkdirSync(scratch, { mode: 0o755 });
  const wrapped = await inMountNamespace(['sh', '-c', `cat ${root}/data/greeting; id -u; hostname`], [{ hostPath: vol, containerPath: `${root}/data` }], '/', scratch, NAMESPACE_FLAGS[1], 'web-1');
  assert.ok('argv' in wrapped);
  chmodSync(path.join(scratch, 'fstab'), 0o644);
  const out = asNobody((wrapped as { argv: string[] }).argv);
  assert.is(out.stdout, 'hello0\nweb-1\n', out.stderr);
  assert.equal(readdirSync(path.join(root, 'data')), [], 'the bind mount stayed inside the namespace');
});

test.run();
