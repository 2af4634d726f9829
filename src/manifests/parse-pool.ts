// Worker threads that load files on their own (load-manifests.ts storedFileOf), for a load with thousands of files
// to parse: YAML parsing and schema checks of 10,000 files were seconds on the one thread. Started for one load and
// ended after it (each holds its own parser, kinds and validators: memory a long-running serve need not keep).
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { ManifestFile } from './types.ts';

/** Files sent to a worker at a time: few messages, and work left to share when one worker is slower. */
const BATCH = 100;

/** The worker's module, beside this one; from the sources (tsx), the TypeScript one through tsx's loader. */
function newWorker(workerData: unknown): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./parse-worker.js', import.meta.url), { workerData });
  const ts = JSON.stringify(new URL('./parse-worker.ts', import.meta.url).href), tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  return new Worker(`import(${tsx}).then((t) => t.register()).then(() => import(${ts}))`, { eval: true, workerData });
}

/**
 * Calls `done(i, json)` with the StoredFile JSON of `files[i]`, for every file, in no particular order. Resolves once
 * all are done; rejects if a worker fails (the caller's load then parses what is left itself).
 */
export async function parseInWorkers(files: ManifestFile[], maxAliases: number, strict: boolean, done: (i: number, json: string) => void): Promise<void> {
  if (!files.length) return;
  const width = Math.max(1, Math.min(availableParallelism(), Math.ceil(files.length / BATCH), 4));
  let next = 0;
  const workers: Worker[] = [];
  try {
    await Promise.all(Array.from({ length: width }, () => new Promise<void>((resolve, reject) => {
      const worker = newWorker({ maxAliases, strict });
      workers.push(worker);
      let from = 0;
      const send = () => {
        if (next >= files.length) return resolve(); // its part done: ended below
        from = next;
        next = Math.min(files.length, next + BATCH);
        worker.postMessage(files.slice(from, next).map((f) => ({ path: f.path, content: f.content, oid: f.oid })));
      };
      worker.on('message', (out: string[]) => {
        out.forEach((json, k) => done(from + k, json));
        send();
      });
      worker.on('error', reject);
      worker.on('exit', (code) => reject(new Error(`parse worker exited with ${code}`))); // after resolve(): nothing
      send();
    })));
  } finally {
    for (const w of workers) void w.terminate();
  }
}
