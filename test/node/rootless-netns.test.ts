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

let dir: string, helper: RootlessNetns;
const logs: string[] = [];
const crashes: unknown[] = [];
const onCrash = (e: unknown) => { crashes.push(e); };

test.before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'convergit-rootless-netns-'));
  const bin = path.join(dir, 'podman');
  writeFileSync(bin, `#!/bin/sh
case "$1 $2" in
  "pod ps") echo 0123456789ab ;;
  "unshare --rootless-netns") shift 2; exec "$@" ;;
  *) echo "stand-in podman: unexpected $*" >&2; exit 125 ;;
esac
`);
  chmodSync(bin, 0o755);
  helper = new RootlessNetns({ bin, env: process.env }, 'test', 'convergit.instance=test', (m) => logs.push(m));
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

test('requests after the helper died are refused (EHELPER), never an uncaught error in serve', async () => {
  const child = (helper as unknown as { child: { pid: number; connected: boolean } }).child;
  process.kill(child.pid, 'SIGKILL');
  // The channel's end is closed by the kernel now; node notices only on its next turn, so these sends hit it.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
  const results = await Promise.all([1, 2, 3].map(() => helper.listen('127.0.0.1', 0).then(() => 'listened', (e: NodeJS.ErrnoException) => e.code)));
  assert.equal(results, ['EHELPER', 'EHELPER', 'EHELPER']);
  await helper.listen('127.0.0.1', 0).then(() => assert.unreachable('listened'), (e: NodeJS.ErrnoException) => assert.is(e.code, 'EHELPER'));
  assert.equal(crashes, []);
  helper.close(); // a helper killed by a signal: nothing to disconnect, and no throw
});

test.run();
