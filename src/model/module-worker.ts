// A worker thread running one of our modules, whichever way convergit runs: from build/ or its bundle (the module's
// `.js` beside the caller's file or chunk), or from the sources through tsx (the `.ts`, through tsx's loader).
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** A worker running the module `name` beside the caller's (`callerUrl`: its import.meta.url). */
export function moduleWorker(callerUrl: string, name: string, options: WorkerOptions = {}): Worker {
  if (!callerUrl.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, callerUrl), options);
  const ts = JSON.stringify(new URL(`./${name}.ts`, callerUrl).href), tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  return new Worker(`import(${tsx}).then((t) => t.register()).then(() => import(${ts}))`, { ...options, eval: true });
}
