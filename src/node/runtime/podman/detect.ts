// Whether podman is here and works: installed, and a real container (the host's `true`, no network) runs with
// convergit's configuration. Only a run tells: podman can be installed yet unable to run anything (cgroups,
// ulimits, a missing OCI runtime).
import { podman } from './cli.ts';
import { PodmanRuntime, type PodmanRuntimeOptions } from './podman.ts';

export type PodmanCheck = { ok: true; version: string; runtime: PodmanRuntime } | { ok: false; reason: string };

export async function checkPodman(opts: PodmanRuntimeOptions): Promise<PodmanCheck> {
  const { stateDir } = opts;
  const v = await podman({ bin: opts.bin ?? 'podman', env: process.env }, ['--version'], { timeoutMs: 10_000 });
  if (v.code !== 0) return { ok: false, reason: v.code === 127 ? 'podman not found on PATH' : `podman --version failed: ${v.stderr.trim()}` };
  if (process.getuid?.() !== 0) return { ok: false, reason: 'podman is installed, but convergit runs it rootful only and is not running as root' };
  const version = v.stdout.trim().replace(/^podman version /, '');
  let runtime: PodmanRuntime;
  try {
    runtime = await PodmanRuntime.create(opts);
  } catch (e) {
    return { ok: false, reason: `podman ${version} could not be set up: ${(e as Error).message}` };
  }
  const c = await runtime.start({ id: 'convergit/check/true', argv: ['true'], env: {}, cwd: '/', logFile: `${stateDir}/check.log` });
  const exit = await c.exited;
  if (exit.reason !== 'Completed') {
    await runtime.close();
    return { ok: false, reason: `podman ${version} cannot run a container: ${exit.message ?? `exit ${exit.exitCode}`}` };
  }
  return { ok: true, version, runtime };
}
