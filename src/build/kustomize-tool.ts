// The kustomize that builds: `kustomize build`, or `kubectl kustomize` (kubectl bundles kustomize), found on
// PATH. It runs with kustomize's default load restrictor (files only from inside the kustomization's folder),
// no Helm, no plugins, bounded in time and output, and with the network closed off as far as the environment
// can: remote references are refused before it runs (see remote-ref.ts); this is the second line.
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface KustomizeTool {
  /** e.g. `kubectl kustomize` */
  name: string;
  command: string;
  args: string[];
  /** e.g. `v5.5.0`: part of the build cache key. */
  version: string;
}

export const INSTALL_HINT = 'install kubectl (it includes kustomize) or kustomize (https://kubectl.docs.kubernetes.io/installation/kustomize/) and put it on PATH';

function onPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch { /* not here */ }
  }
  return undefined;
}

const found = new Map<string, Promise<KustomizeTool | undefined>>();

/** `kustomize` first (the standalone one is usually the newer), else `kubectl`; undefined when neither is on PATH. */
export function findKustomize(env: NodeJS.ProcessEnv = process.env): Promise<KustomizeTool | undefined> {
  const key = env.PATH ?? '';
  let tool = found.get(key);
  if (!tool) {
    tool = locate(env);
    found.set(key, tool);
    // Not found is not remembered: installing kubectl fixes the next sync without a restart.
    void tool.then((t) => { if (!t) found.delete(key); });
  }
  return tool;
}

async function locate(env: NodeJS.ProcessEnv): Promise<KustomizeTool | undefined> {
  const kustomize = onPath('kustomize', env);
  if (kustomize) {
    const out = await run(kustomize, ['version'], { env, timeoutMs: 10_000, maxBytes: 64 * 1024 }).catch(() => undefined);
    return { name: 'kustomize build', command: kustomize, args: ['build'], version: out?.trim().split(/\s+/).pop() ?? 'unknown' };
  }
  const kubectl = onPath('kubectl', env);
  if (!kubectl) return undefined;
  const out = await run(kubectl, ['version', '--client', '-o', 'json'], { env, timeoutMs: 10_000, maxBytes: 64 * 1024 }).catch(() => undefined);
  let version = 'unknown';
  try { version = JSON.parse(out ?? '').kustomizeVersion ?? version; } catch { /* an old kubectl: version unknown */ }
  return { name: 'kubectl kustomize', command: kubectl, args: ['kustomize'], version };
}

export interface RunLimits {
  env?: NodeJS.ProcessEnv;
  timeoutMs: number;
  maxBytes: number;
}

/** Thrown for a build that fails; `message` is kustomize's own error, cleaned of log prefixes. */
export class KustomizeError extends Error {}

/** `kustomize build <dir>`: the YAML stream it prints. */
export function runKustomize(tool: KustomizeTool, dir: string, limits: RunLimits): Promise<string> {
  return run(tool.command, [...tool.args, '--load-restrictor', 'LoadRestrictionsRootOnly', dir], { ...limits, env: offline(limits.env ?? process.env) });
}

/** Proxies that refuse every connection and git allowed no transport: a missed remote reference fails fast. */
function offline(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const closed = 'http://127.0.0.1:9';
  return { ...env, HTTP_PROXY: closed, HTTPS_PROXY: closed, http_proxy: closed, https_proxy: closed, NO_PROXY: '', no_proxy: '', GIT_ALLOW_PROTOCOL: 'none', GIT_TERMINAL_PROMPT: '0' };
}

function run(command: string, args: string[], limits: RunLimits): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { env: limits.env, timeout: limits.timeoutMs, maxBuffer: limits.maxBytes, killSignal: 'SIGKILL', encoding: 'utf8' }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const e = err as NodeJS.ErrnoException & { killed?: boolean; signal?: string; code?: unknown };
      if (e.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') return reject(new KustomizeError(`the build printed more than ${limits.maxBytes} bytes; stopped`));
      if (e.killed || e.signal === 'SIGKILL') return reject(new KustomizeError(`the build took longer than ${limits.timeoutMs / 1000} s; stopped`));
      if (typeof e.code === 'string') return reject(new KustomizeError(`cannot run ${command}: ${e.message}`));
      reject(new KustomizeError(cleanError(stderr) || `exited with status ${e.code}`));
    });
  });
}

/** kubectl logs `E1203 … run.go:72] "command failed" err="…"`; kustomize prints `Error: …`. */
export function cleanError(stderr: string): string {
  const logged = /err="((?:[^"\\]|\\.)*)"/.exec(stderr);
  if (logged) {
    try { return JSON.parse(`"${logged[1]}"`); } catch { return logged[1]; }
  }
  return stderr.trim().replace(/^(?:error|Error):\s*/, '').trim();
}
