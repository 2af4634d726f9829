// Suspending the sync loop without a write API: a marker file in the data folder that `serve` looks for,
// like `flux suspend` but local to the machine that runs convergit. Running objects are left as they are.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const suspendFile = (dataDir: string) => path.join(path.resolve(dataDir), 'suspend');

export function suspend(dataDir: string, reason: string): void {
  mkdirSync(path.resolve(dataDir), { recursive: true });
  writeFileSync(suspendFile(dataDir), reason + '\n');
  console.log(`sync suspended (${suspendFile(dataDir)}); new commits are not applied until \`convergit resume\``);
}

export function resume(dataDir: string): void {
  rmSync(suspendFile(dataDir), { force: true });
  console.log('sync resumed');
}

/** Calls onChange(suspended, reason) whenever the marker appears or disappears; checked every `everyMs`. */
export function followSuspension(dataDir: string, everyMs: number, onChange: (suspended: boolean, reason: string) => void): () => void {
  let last = false;
  const check = () => {
    const now = existsSync(suspendFile(dataDir));
    if (now === last) return;
    last = now;
    onChange(now, now ? readFileSync(suspendFile(dataDir), 'utf8').trim() : '');
  };
  check();
  const timer = setInterval(check, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
