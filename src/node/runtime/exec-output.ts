// An exec's stdout and stderr together, kept to the first 10 KiB as the kubelet keeps them for probe messages.
import type { ChildProcess } from 'node:child_process';

const MAX_EXEC_OUTPUT = 10 * 1024;

/** Collects `child`'s output; `text()` gives what was kept. */
export function collectExecOutput(child: ChildProcess): { text(): string } {
  const chunks: Buffer[] = [];
  let size = 0;
  const collect = (b: Buffer) => {
    if (size < MAX_EXEC_OUTPUT) chunks.push(b.subarray(0, MAX_EXEC_OUTPUT - size));
    size += b.length;
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  return { text: () => Buffer.concat(chunks).toString('utf8') };
}
