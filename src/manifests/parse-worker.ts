// A parse worker (parse-pool.ts): batches of files in, each file's StoredFile JSON out, in order.
import { parentPort, workerData } from 'node:worker_threads';
import { storedFileOf } from './load-manifests.ts';
import type { ManifestFile } from './types.ts';

const { maxAliases, strict } = workerData as { maxAliases: number; strict: boolean };
parentPort!.on('message', (files: ManifestFile[]) => {
  parentPort!.postMessage(files.map((f) => JSON.stringify(storedFileOf(f, maxAliases, strict))));
});
