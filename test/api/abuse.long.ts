// The API under heavier abuse (npm run torture): 1,000 concurrent watches all get each change; hundreds of slowloris
// connections and watch clients that never read neither stall other clients nor grow the server's memory unbounded.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openStore } from '../../src/store/lowdb-store.ts';
import { startApiServer, type ApiServer } from '../../src/api/server.ts';
import type { Store } from '../../src/store/store.ts';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
/** The JS heap in use after a full collection: what the server holds, not the garbage it has made. */
const heap = () => { gc(); gc(); return process.memoryUsage().heapUsed; };

let dir: string, store: Store, api: ApiServer;
const sockets: Socket[] = [];

function raw(text: string, read = true): { socket: Socket; received: () => string; closed: () => boolean } {
  const socket = connect(api.port, '127.0.0.1');
  sockets.push(socket);
  let data = '', closed = false;
  socket.setEncoding('utf8').on('error', () => {}).on('close', () => (closed = true));
  if (read) socket.on('data', (d) => (data += d));
  socket.write(text);
  return { socket, received: () => data, closed: () => closed };
}

async function until(check: () => boolean | Promise<boolean>, what: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const update = async (value: string) => {
  const cm = await store.get('ConfigMap', 'default', 'watched');
  await store.update({ ...cm!, data: { v: value } });
};

test.before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'convergit-abuse-long-'));
  store = await openStore(dir);
  await store.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'watched', namespace: 'default' }, data: { v: '0' } });
  // Default caps (1,000 watches fit under them); short header timeouts so the slowloris part ends soon.
  api = await startApiServer({ store, host: '127.0.0.1', port: 0, repository: '/r', branch: 'main', version: 'test', limits: { headersTimeoutMs: 2000, connectionsCheckingIntervalMs: 250, watchBufferBytes: 1024 * 1024 } });
});

test.after(async () => {
  for (const s of sockets) s.destroy();
  await api.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

test('1,000 concurrent watches each get every change; plain GETs are answered meanwhile', async () => {
  const watches = Array.from({ length: 1000 }, () => raw('GET /api/v1/namespaces/default/configmaps?watch=true HTTP/1.1\r\nhost: x\r\n\r\n'));
  await until(() => watches.every((w) => w.received().includes('200 OK')), 'all watches to start');
  for (let i = 1; i <= 5; i++) await update(`change-${i}`);
  assert.is((await fetch(`${api.url}/api/v1/namespaces/default/configmaps/watched`)).status, 200);
  await until(() => watches.every((w) => w.received().includes('change-5')), 'every watch to see the last change');
  assert.ok(watches.every((w) => [1, 2, 3, 4, 5].every((i) => w.received().includes(`change-${i}`))), 'no change skipped');
  for (const w of watches) w.socket.destroy();
});

test('300 slowloris connections and 50 watches that never read: others answered, all cut off, memory bounded', async () => {
  const before = heap();
  const slow = Array.from({ length: 300 }, () => raw('GET /api/v1/pods HTTP/1.1\r\nhost: x\r\n'));
  const stuck = Array.from({ length: 50 }, () => raw('GET /api/v1/namespaces/default/configmaps?watch=true HTTP/1.1\r\nhost: x\r\n\r\n', false));
  for (const s of stuck) s.socket.pause();
  const big = 'y'.repeat(256 * 1024);
  // 50 watchers × 200 changes × 256 KiB would be 2.5 GB if buffered for them.
  for (let i = 0; i < 200 && !stuck.every((s) => s.closed()); i++) {
    await update(`${i}${big}`);
    const r = await fetch(`${api.url}/healthz`);
    assert.is(r.status, 200);
    if (i % 10 === 9) for (const s of stuck) { s.socket.resume(); s.socket.pause(); }
  }
  for (const s of stuck) s.socket.resume();
  await until(() => stuck.every((s) => s.closed()), 'the stuck watches to be cut off');
  await until(() => slow.every((s) => s.closed()), 'the slowloris connections to time out');
  assert.ok(slow.every((s) => /^HTTP\/1\.1 408 /.test(s.received())), 'each answered 408');
  const grown = (heap() - before) / 2 ** 20;
  console.log(`  heap grew ${grown.toFixed(0)} MiB (2,500 MiB if the stuck watches' events were kept)`);
  assert.ok(grown < 200, `the heap grew ${grown.toFixed(0)} MiB`);
});

test.run();
