// Runs the podman CLI: one child process per call, its output collected, the environment pointing podman at
// convergit's containers.conf. Never throws for a non-zero exit: callers read `code` and `stderr`.
import { spawn, type SpawnOptions } from 'node:child_process';

export interface PodmanResult { code: number; stdout: string; stderr: string }

export interface PodmanCli {
  /** The podman binary. */
  bin: string;
  /** Environment for every call (CONTAINERS_CONF …). */
  env: NodeJS.ProcessEnv;
  /** Working directory of every call: conmon (2.1) writes a stray `oom` file into it after an OOM kill. */
  cwd?: string;
}

export function podman(cli: PodmanCli, args: string[], opts: { stdio?: SpawnOptions['stdio']; timeoutMs?: number } = {}): Promise<PodmanResult> {
  return new Promise((resolve) => {
    const child = spawn(cli.bin, args, { env: cli.env, cwd: cli.cwd, stdio: opts.stdio ?? ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => err.push(b));
    const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : undefined;
    child.once('error', (e) => {
      clearTimeout(timer);
      resolve({ code: 127, stdout: '', stderr: e.message });
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? 128 + (signal === 'SIGKILL' ? 9 : 15), stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

/** podman's "Error: …" line without the prefix, for messages. */
export const podmanError = (r: PodmanResult) =>
  (r.stderr.split('\n').filter((l) => l.trim()).pop() ?? `podman exited with ${r.code}`).replace(/^Error: /, '');
