// Names the code that loads manifests, for caches whose entries it computed (load-cache.ts): every file of the
// package that can change a verdict (the code running: build/ or src/, the schemas, dependency versions) by path,
// size and modification time. An edited or upgraded convergit has another fingerprint; its entries are not used.
// Only the folder running is listed (half the stats of `validate`'s start): bin/convergit.js runs build/ only while
// it is newer than every file of src/, so an edit of src/ runs src/, which has a fingerprint of its own.
import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** build/ or src/: the folder this module, and so the loader, runs from. */
const RUNNING = fileURLToPath(new URL('..', import.meta.url)).slice(ROOT.length).replace(/\/$/, '');

let memo: string | undefined;

export function codeFingerprint(): string {
  if (memo) return memo;
  const hash = createHash('sha256');
  const add = (rel: string) => {
    try {
      const s = statSync(join(ROOT, rel));
      if (s.isFile()) hash.update(`${rel}\0${s.size}\0${s.mtimeMs}\n`);
    } catch { /* absent: nothing to add */ }
  };
  for (const dir of [RUNNING, 'schemas']) {
    let names: string[] = [];
    try { names = readdirSync(join(ROOT, dir), { recursive: true }).map(String).sort(); } catch { /* absent */ }
    for (const n of names) add(`${dir}/${n}`);
  }
  for (const f of ['package.json', 'package-lock.json']) add(f);
  return (memo = hash.digest('hex'));
}
