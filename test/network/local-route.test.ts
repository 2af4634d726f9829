// The service CIDR's local route, on this network namespace's real routing tables (run it inside `unshare -n`, as
// every test here: the routes are the namespace's own). Needs root and `ip`.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clashingRoutes, cidrsOverlap, ensureLocalRoute, isLoopbackCidr, normalizeCidr, removeOwnLocalRoute } from '../../src/network/local-route.ts';

const BIN = new URL('../../bin/convergit.js', import.meta.url).pathname;
const local = () => execFileSync('ip', ['route', 'show', 'table', 'local'], { encoding: 'utf8' });
const dirs: string[] = [];
const dataDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'convergit-route-'));
  dirs.push(d);
  return d;
};

test.after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test('CIDR arithmetic', () => {
  assert.is(normalizeCidr('10.96.3.4/16'), '10.96.0.0/16');
  assert.ok(cidrsOverlap('10.96.0.0/16', '10.96.200.0/24'));
  assert.not.ok(cidrsOverlap('10.96.0.0/16', '10.97.0.0/16'));
  assert.ok(isLoopbackCidr('127.2.0.0/16'));
  assert.not.ok(isLoopbackCidr('10.96.0.0/16'));
});

test('serve refuses a service CIDR overlapping the cluster CIDR, saying so', () => {
  const r = spawnSync(process.execPath, [BIN, 'serve', '--example', '--port', '0', '--runtime', 'process', '--data-dir', dataDir(), '--service-cidr', '127.1.0.0/16'], { encoding: 'utf8', timeout: 60_000 });
  assert.is.not(r.status, 0);
  assert.match(r.stderr, '--service-cidr 127.1.0.0/16 overlaps the cluster CIDR 127.1.0.0/16: give disjoint ranges');
});

const root = process.getuid?.() === 0 && spawnSync('ip', ['-V']).status === 0;
if (!root) console.log('local-route: route tests skipped, they need root and ip (iproute2)');
else {
  test('two data folders, two ranges: each route is local, each folder removes its own only', async () => {
    const [a, b] = [dataDir(), dataDir()];
    assert.equal(await ensureLocalRoute('10.81.0.0/16', a), { ours: true, added: true });
    assert.equal(await ensureLocalRoute('10.82.5.0/24', b), { ours: true, added: true });
    // A listener on any address of the range, reached from here.
    const server = net.createServer((s) => s.end('hi')).listen(8081, '10.81.7.9');
    await new Promise((r) => server.once('listening', r));
    const got = await new Promise<string>((resolve, reject) => {
      let text = '';
      net.connect(8081, '10.81.7.9').on('data', (d) => (text += d)).on('end', () => resolve(text)).on('error', reject);
    });
    server.close();
    assert.is(got, 'hi');
    // A later serve on the same folder finds its own route.
    assert.equal(await ensureLocalRoute('10.81.0.0/16', a), { ours: true, added: false });
    assert.is(await removeOwnLocalRoute(a), '10.81.0.0/16');
    assert.not.match(local(), /10\.81\.0\.0\/16/);
    assert.match(local(), /^local 10\.82\.5\.0\/24 dev lo /m);
    assert.is(await removeOwnLocalRoute(a), undefined, 'nothing recorded any more');
    assert.is(await removeOwnLocalRoute(b), '10.82.5.0/24');
  });

  test('a route that was there before is not ours: it stays', async () => {
    execFileSync('ip', ['route', 'add', 'local', '10.83.0.0/16', 'dev', 'lo']);
    const d = dataDir();
    assert.equal(await ensureLocalRoute('10.83.0.0/16', d), { ours: false, added: false });
    assert.is(await removeOwnLocalRoute(d), undefined);
    assert.match(local(), /^local 10\.83\.0\.0\/16 dev lo /m);
    execFileSync('ip', ['route', 'del', 'local', '10.83.0.0/16', 'dev', 'lo']);
  });

  test('the host\'s routes a service CIDR would clash with', async () => {
    execFileSync('ip', ['route', 'add', '10.84.3.0/24', 'dev', 'lo']);
    try {
      assert.equal(await clashingRoutes('10.84.0.0/16'), ['10.84.3.0/24 dev lo']);
      assert.equal(await clashingRoutes('10.85.0.0/16'), []);
    } finally {
      execFileSync('ip', ['route', 'del', '10.84.3.0/24', 'dev', 'lo']);
    }
  });
}

test.run();
