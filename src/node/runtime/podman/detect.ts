// Whether podman is here and works: installed, and a real container (the host's `true`, in a pod sandbox on the
// host's network) runs with convergit's configuration. Only a run tells: podman can be installed yet unable to run
// anything (cgroups, ulimits, a missing OCI runtime), or run containers but not pods (a pod's infra container needs
// `catatonit`, only a Recommends of Debian's podman). Not as root, podman runs rootless: what that needs is checked first
// (rootless.ts), and then that its network namespace, where the pods' bridges live, can be made.
import { podman } from './cli.ts';
import { PodmanRuntime, type PodmanRuntimeOptions } from './podman.ts';
import { isRootless, rootlessMissing } from './rootless.ts';

export type PodmanCheck = { ok: true; version: string; rootless: boolean; runtime: PodmanRuntime } | { ok: false; reason: string };

export async function checkPodman(opts: PodmanRuntimeOptions): Promise<PodmanCheck> {
  const { stateDir } = opts;
  const v = await podman({ bin: opts.bin ?? 'podman', env: process.env }, ['--version'], { timeoutMs: 10_000 });
  if (v.code !== 0) return { ok: false, reason: v.code === 127 ? 'podman not found on PATH' : `podman --version failed: ${v.stderr.trim()}` };
  const version = v.stdout.trim().replace(/^podman version /, '');
  const rootless = isRootless();
  const missing = rootless ? rootlessMissing() : undefined;
  if (missing) return { ok: false, reason: `podman ${version} is installed, but ${missing}` };
  let runtime: PodmanRuntime;
  try {
    runtime = await PodmanRuntime.create(opts);
  } catch (e) {
    return { ok: false, reason: `podman ${version} could not be set up: ${(e as Error).message}` };
  }
  const id = 'convergit/check';
  const failed = async (what: string, why: string): Promise<PodmanCheck> => {
    await runtime.close();
    return { ok: false, reason: `podman ${version}${rootless ? ' (rootless)' : ''} cannot ${what}: ${why}` };
  };
  let sandbox: string;
  try {
    sandbox = await runtime.createSandbox({ id, uid: 'check', podCIDR: '', ip: '', hostNetwork: true, hostPorts: [] });
  } catch (e) {
    const why = (e as Error).message;
    return failed('make a pod', /catatonit/.test(why) ? `${why} (install catatonit: apt-get install catatonit)` : why);
  }
  const c = await runtime.start({ id: `${id}/true`, argv: ['true'], env: {}, cwd: '/', logFile: `${stateDir}/check.log`, sandbox });
  const exit = await c.exited;
  await runtime.removeSandbox(sandbox).catch(() => {});
  if (exit.reason !== 'Completed') return failed('run a container', exit.message ?? `exit ${exit.exitCode}`);
  if (rootless) {
    const net = await runtime.checkRootlessNetwork();
    if (net) {
      await runtime.close();
      return { ok: false, reason: `podman ${version} (rootless) cannot make its network namespace: ${net}` };
    }
  }
  return { ok: true, version, rootless, runtime };
}
