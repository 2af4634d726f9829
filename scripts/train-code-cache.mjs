#!/usr/bin/env node
// The code cache shipped with the build (bin/run-bundle.js reads it where the user's cache folder has none): `validate`,
// `plan` and `serve` run once each on the bundled example (examples-repo, a state of one node for plan to compare
// with), each writing V8's compiled code of what it ran into build/code-cache/. A fresh install's first validate, plan
// or serve then compiles no more than its later runs (a cold plan of 10,000 objects ~0.25 s quicker, serve's modules
// ~0.13 s: docs/engine.md, "Start-up"). serve stops after its first sync (CONVERGIT_INTERNAL_TRAIN_CODE_CACHE): its
// engine would start the example's pods and take addresses and routes on the machine. Called by
// scripts/prepare.mjs after the bundles are built; a failure costs that command's first runs their compile, not the
// install nor the other commands' caches.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheName, shippedName } from '../bin/run-bundle.js';

const root = new URL('..', import.meta.url);
const out = fileURLToPath(new URL('build/code-cache/', root));
const bin = fileURLToPath(new URL('bin/convergit.js', root));
rmSync(out, { recursive: true, force: true });
const tmp = mkdtempSync(path.join(tmpdir(), 'convergit-train-'));
try {
  const { seedRepository } = await import(new URL('build/source/seed.js', root).href);
  const repo = path.join(tmp, 'repo'), data = path.join(tmp, 'data');
  await seedRepository(fileURLToPath(new URL('examples-repo', root)), repo, 'main');
  mkdirSync(data);
  // What plan reads from a serve's data folder: a store snapshot (src/store/persist.ts), here one node with room.
  const node = {
    apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1', labels: { 'kubernetes.io/hostname': 'node-1' } },
    status: { allocatable: { cpu: '8', memory: '32Gi', pods: '110' }, capacity: { cpu: '8', memory: '32Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'True' }] },
  };
  writeFileSync(path.join(data, 'state.json'), JSON.stringify({ version: 1, resourceVersion: 1, seq: 0, meta: {}, objects: [node] }));
  // The flags and folders of a plain run: V8 refuses a cache made under other flags.
  const env = { ...process.env, CONVERGIT_CODE_CACHE: out, XDG_CACHE_HOME: path.join(tmp, 'cache'), CONVERGIT_INTERNAL_TRAIN_CODE_CACHE: '1' };
  for (const name of ['CONVERGIT_V8_FLAGS', 'CONVERGIT_NO_BUILD', 'CONVERGIT_START_HEAP', 'NODE_OPTIONS']) delete env[name];
  const bundle = fileURLToPath(new URL('build/bundle/serve.cjs', root));
  const source = readFileSync(bundle, 'utf8');
  const served = path.join(tmp, 'served');
  const runs = [
    ['validate', '--repo', repo], ['plan', '--repo', repo, '--ref', 'main', '--data-dir', data],
    ['serve', '--repo', repo, '--data-dir', served, '--port', '0', '--nodes', '0'],
  ];
  // Each on its own: one that fails (serve cannot listen, a port or a lock) costs only its own cache. Killed, not
  // asked to stop, at the limit: a serve still starting notes a SIGTERM only at its next step.
  for (const args of runs) {
    const name = path.join(out, cacheName(bundle, args[0]));
    try {
      const r = spawnSync(process.execPath, [bin, ...args], { env, encoding: 'utf8', timeout: 120_000, killSignal: 'SIGKILL' });
      if (r.error) throw r.error;
      if (r.status !== 0 && r.status !== 2) throw new Error(`exited with ${r.status ?? r.signal}: ${r.stderr.trim().split('\n').at(-1)}`);
      // Written under the user's name for this bundle (as this process, with no node flags of its own, names it);
      // shipped by the bundle's text instead (bin/run-bundle.js): found wherever this build is installed.
      renameSync(name, path.join(out, shippedName(source, args[0])));
    } catch (e) {
      rmSync(name, { force: true });
      console.log(`convergit: no code cache shipped for ${args[0]} (${e.message}); its first runs compile what they run`);
    }
  }
} catch (e) {
  rmSync(out, { recursive: true, force: true });
  console.log(`convergit: no code cache shipped (${e.message}); the first validate, plan and serve compile what they run`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
