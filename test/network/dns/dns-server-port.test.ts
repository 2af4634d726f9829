// Port 0 lets the kernel pick the UDP port; TCP must then listen on the same number, which a TCP listener may hold
// already (a cluster-dns test once failed so). With an ephemeral range of two ports and one held, UDP picks the held
// one half the time: the server must try again rather than fail. Needs root (unshare, sysctl); skipped otherwise.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';

const CHILD = new URL('./dns-port-child.ts', import.meta.url).pathname;
const root = process.getuid?.() === 0 && spawnSync('unshare', ['-n', 'true']).status === 0;

test('DNS server on port 0: TCP finding the UDP port taken tries another', () => {
  if (!root) return console.log('dns-server-port: skipped, needs root and unshare');
  const script = `ip link set lo up && sysctl -q -w net.ipv4.ip_local_port_range="40000 40001" && exec "$0" --import tsx "$1" 40000`;
  const r = spawnSync('unshare', ['-n', 'sh', '-c', script, process.execPath, CHILD], { encoding: 'utf8', timeout: 60_000 });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout.trim(), `ports ${Array(20).fill(40001).join(' ')}`);
});

test.run();
