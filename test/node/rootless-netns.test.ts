// The rootless network helper's protocol (src/node/runtime/podman/rootless-netns.ts) without rootless podman: a
// stand-in `podman` that says the anchor pod runs and runs `unshare --rootless-netns <cmd>` as <cmd> here, so the
// real helper (node -e) makes its listeners, UDP sockets and connections in this namespace and hands them over the
// real IPC channel. The whole path with podman is test/e2e/podman-rootless.test.ts (as root, a user of its own).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RootlessNetns } from '../../src/node/runtime/podman/rootless-netns.ts';
import { until } from '../support/wait.ts';

let dir: string, helper: RootlessNetns;
const logs: string[] = [];
const crashes: unknown[] = [];
const onCrash = (e: unknown) => { crashes.push(e); };

test.before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'convergit-rootless-netns-'));
  const bin = path.join(dir, 'podman');
  writeFileSync(bin, `#!/bin/sh
case "$1 $2" in
  "pod inspect") echo Running ;;
  "unshare --rootless-netns") shift 2; exec "$@" ;;
  *) echo "stand-in podman: unexpected $*" >&2; exit 125 ;;
esac
`);
  chmodSync(bin, 0o755);
  helper = new RootlessNetns({ bin, env: process.env }, 'test', ['convergit.instance=test'], (m) => logs.push(m));
  await helper.start();
  process.on('uncaughtException', onCrash);
});

test.after(() => {
  process.off('uncaughtException', onCrash);
  rmSync(dir, { recursive: true, force: true });
});

test('a listener, a UDP socket and a connection made by the helper are serve\'s to use', async () => {
  const handed = await helper.listen('127.0.0.1', 0);
  const server = net.createServer((c) => c.end('from the handed-over listener'));
  await new Promise<void>((r) => server.listen(handed, r));
  const port = (server.address() as AddressInfo).port;
  const socket = await helper.connect('127.0.0.1', port, 5_000);
  const text = await new Promise<string>((resolve, reject) => {
    let got = '';
    socket.on('data', (d) => (got += d)).on('end', () => resolve(got)).on('error', reject);
    socket.resume();
  });
  assert.is(text, 'from the handed-over listener');
  server.close();
  handed.close();
  const udp = await helper.udp('127.0.0.1', 0);
  assert.ok(udp.address().port > 0);
  udp.close();
});

test('a connection refused there is refused here, with its code', async () => {
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as AddressInfo).port;
  await new Promise((r) => probe.close(r));
  const err = await helper.connect('127.0.0.1', port, 5_000).then(() => undefined, (e: NodeJS.ErrnoException) => e);
  assert.is(err?.code, 'ECONNREFUSED');
});

test('a killed helper is started again: requests sent to the dead one (never an uncaught error in serve) and later ones are answered by the new one', async () => {
  const before = helper.pid!;
  process.kill(before, 'SIGKILL');
  // The channel's end is closed by the kernel now; node notices only on its next turn, so these sends hit it.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
  const handed = await Promise.all([1, 2, 3].map(() => helper.listen('127.0.0.1', 0)));
  for (const h of handed) {
    assert.ok((h.address() as AddressInfo).port > 0);
    h.close();
  }
  assert.is(helper.starts, 2);
  assert.ok(helper.pid && helper.pid !== before);
  assert.ok(logs.some((l) => /the helper in podman's rootless network namespace exited \((\d+|SIGKILL)\); starting it again in 0.5 s/.test(l)), logs.join('\n'));
  assert.ok(logs.some((l) => /the rootless network helper runs again \(pid \d+\)/.test(l)), logs.join('\n'));
  // And again: a connection made by the new helper.
  const server = net.createServer((c) => c.end('after the restart'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const socket = await helper.connect('127.0.0.1', (server.address() as AddressInfo).port, 5_000);
  const text = await new Promise<string>((resolve, reject) => {
    let got = '';
    socket.on('data', (d) => (got += d)).on('end', () => resolve(got)).on('error', reject);
    socket.resume();
  });
  assert.is(text, 'after the restart');
  server.close();
  assert.equal(crashes, []);
});

test('closed, the helper is not started again, and requests are refused', async () => {
  const pid = helper.pid!;
  const logged = logs.length;
  helper.close();
  await new Promise((r) => setTimeout(r, 50));
  await helper.listen('127.0.0.1', 0).then(() => assert.unreachable('listened'), (e: NodeJS.ErrnoException) => assert.is(e.code, 'EHELPER'));
  await until(() => { try { process.kill(pid, 0); return false; } catch { return true; } }, 'the helper to exit', 5_000);
  assert.is(helper.starts, 2);
  assert.is(logs.length, logged, logs.join('\n')); // its exit is not a death to supervise
});

test.run();
