// Lifecycle hook handlers as the kubelet runs them: exec in the container's context (its failure named), httpGet
// against the pod's address (a 5xx fails it), sleep (bounded by the time it is given, cut short by an abort).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type AddressInfo } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runHook } from '../../src/node/lifecycle-hooks.ts';
import { ProcessRuntime } from '../../src/node/runtime/process.ts';

const IP = '127.1.0.6';
let dir = '';
test.before.each(async () => { dir = await mkdtemp(join(tmpdir(), 'convergit-hooks-')); });
test.after.each(async () => { await rm(dir, { recursive: true, force: true }); });

const ctx = (extra: { timeoutMs?: number; signal?: AbortSignal } = {}) => ({
  podIP: IP, ports: [{ name: 'web', containerPort: 0 }], runtime: new ProcessRuntime(), msPerSecond: 20, timeoutMs: extra.timeoutMs ?? 2000,
  launch: { id: 'default/p/c', argv: ['true'], env: { PATH: process.env.PATH ?? '' }, cwd: dir, logFile: join(dir, 'log') },
  ...(extra.signal && { signal: extra.signal }),
});

test('exec: exit 0 passes; another exit fails with the command, the container and the output', async () => {
  assert.equal(await runHook({ exec: { command: ['sh', '-c', 'exit 0'] } }, ctx()), { ok: true });
  const r = await runHook({ exec: { command: ['sh', '-c', 'echo not yet; exit 2'] } }, ctx());
  assert.is(r.ok, false);
  assert.is(r.message, 'Exec lifecycle hook (["sh","-c","echo not yet; exit 2"]) for Container "c" failed: not yet');
});

test('httpGet: a 2xx passes, a 500 fails; sleep lasts its seconds, bounded by the time given, and stops on abort', async () => {
  const server = createHttpServer((req, res) => res.writeHead(req.url === '/bad' ? 500 : 200).end());
  await new Promise<void>((r) => server.listen(0, IP, r));
  const port = (server.address() as AddressInfo).port;
  try {
    assert.equal(await runHook({ httpGet: { path: '/ok', port } }, ctx()), { ok: true });
    const bad = await runHook({ httpGet: { path: '/bad', port } }, ctx());
    assert.is(bad.ok, false);
    assert.match(bad.message!, /HTTP lifecycle hook for Container "c" failed: HTTP probe failed with statuscode: 500/);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
  assert.equal(await runHook({ sleep: { seconds: 5 } }, ctx()), { ok: true }); // 5 × 20 ms
  // 1000 × 20 ms would outlast the test's own deadline: it ends at the 50 ms given, or on an abort.
  assert.equal(await runHook({ sleep: { seconds: 1000 } }, ctx({ timeoutMs: 50 })), { ok: true });
  const abort = new AbortController();
  const slept = runHook({ sleep: { seconds: 1000 } }, ctx({ timeoutMs: 60_000, signal: abort.signal }));
  abort.abort();
  assert.equal(await slept, { ok: true });
  // Nothing listening: the dial error, as the kubelet words it.
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, IP, r));
  const closed = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  assert.match((await runHook({ httpGet: { port: closed } }, ctx())).message!, /connection refused/);
});

test('a sleep or an exec given longer than a timer can wait (40 days, in a grace as long) still runs: node would end it at once', async () => {
  const warn = process.emitWarning;
  process.emitWarning = () => {}; // node's TimeoutOverflowWarning, were the delay not clamped
  const abort = new AbortController();
  try {
    const days = 40 * 86_400;
    const slept = runHook({ sleep: { seconds: days } }, { ...ctx({ timeoutMs: days * 1000, signal: abort.signal }), msPerSecond: 1000 });
    // Still sleeping once a 100 ms timer set after it has fired (an unclamped one fires after 1 ms).
    assert.is(await Promise.race([slept.then(() => 'ended'), new Promise((r) => setTimeout(() => r('sleeping'), 100))]), 'sleeping');
    abort.abort();
    assert.equal(await slept, { ok: true });
    // An exec hook given as long is not timed out at once either.
    assert.equal(await runHook({ exec: { command: ['sh', '-c', 'sleep 0.2; exit 0'] } }, ctx({ timeoutMs: days * 1000 })), { ok: true });
  } finally {
    process.emitWarning = warn;
  }
});

test.run();
