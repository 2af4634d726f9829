import type { Worker } from 'node:worker_threads';

/**
 * Calls `apply` (setting V8 flags) while each Worker created from now on starts, and when it exits: every new
 * isolate's heap set-up raises V8's process-wide semi-space growth factor back to 2 (Heap::ConfigureHeap). A
 * worker's 'online' comes only when the main thread turns its loop, and at 10,000 files it came 170 ms after the
 * worker's creation, in which V8 doubled the young generation twice: so every 2 ms (every turn) until then. Returns
 * a stop (no more workers watched; those starting finish their own).
 */
export function reapplyAsWorkersStart(apply: () => void): () => void {
  const onWorker = (w: Worker) => {
    const meanwhile = setInterval(apply, 2);
    const settled = () => { clearInterval(meanwhile); apply(); };
    w.once('online', settled);
    w.once('exit', settled); // follows an error too
  };
  process.on('worker', onWorker);
  return () => { process.off('worker', onWorker); };
}
