// Which runtime a serve runs pods on: the --runtime flag; else the one the data folder's pods already run on
// (runtime.json, written at the first start); else podman when it is installed and runs a container here, else
// process. Recorded so that a restart with the default never moves running pods to another runtime (nothing would
// adopt them); `convergit stop`, which stops them all, forgets it. The probe itself is never cached: it runs at every
// start where the choice is still open, so an install or removal of podman is seen at once.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkPodman } from '../node/runtime/podman/detect.ts';
import type { PodmanRuntimeOptions } from '../node/runtime/podman/podman.ts';
import { ProcessRuntime } from '../node/runtime/process.ts';
import type { Runtime } from '../node/runtime/runtime.ts';

export type RuntimeName = 'podman' | 'process';

export interface ChosenRuntime {
  runtime: Runtime;
  name: RuntimeName;
  /** The Node's containerRuntimeVersion. */
  version: string;
  /** What serve logs: `runtime: <name> (<why>)`. */
  reason: string;
  close(): Promise<void> | void;
}

interface Recorded { runtime: RuntimeName; since: string }

const file = (dataDir: string) => join(dataDir, 'runtime.json');

/** The runtime this data folder's pods run on, if a serve chose one since the last `convergit stop`. */
export function recordedRuntime(dataDir: string): Recorded | undefined {
  if (!existsSync(file(dataDir))) return undefined;
  const r = JSON.parse(readFileSync(file(dataDir), 'utf8')) as Recorded;
  if (r.runtime !== 'podman' && r.runtime !== 'process') throw new Error(`${file(dataDir)}: runtime ${JSON.stringify(r.runtime)} is neither podman nor process`);
  return r;
}

/** `convergit stop` has stopped every pod: the next serve may choose again. */
export function forgetRuntime(dataDir: string): void {
  rmSync(file(dataDir), { force: true });
}

export async function chooseRuntime(dataDir: string, flag: RuntimeName | undefined, podmanOpts: PodmanRuntimeOptions): Promise<ChosenRuntime> {
  const recorded = recordedRuntime(dataDir);
  if (flag && recorded && flag !== recorded.runtime) {
    throw new Error(`--runtime ${flag}, but the pods of ${dataDir} run on ${recorded.runtime} (since ${recorded.since}): `
      + `\`convergit stop --data-dir ${dataDir}\` stops them first, or keep --runtime ${recorded.runtime}`);
  }
  const wanted = flag ?? recorded?.runtime;
  const why = flag ? `--runtime ${flag}` : recorded ? `the runtime of this data folder's pods since ${recorded.since}` : undefined;
  let chosen: ChosenRuntime;
  if (wanted === 'process') {
    chosen = processRuntime(why!);
  } else {
    const check = await checkPodman(podmanOpts);
    if (check.ok) {
      const runtime = check.runtime;
      chosen = { runtime, name: 'podman', version: `podman://${check.version}`, reason: `podman ${check.version}, ${check.rootless ? 'rootless' : 'rootful'}; ${why ?? 'it runs containers here'}`, close: () => runtime.close() };
    } else if (wanted === 'podman') {
      throw new Error(flag ? `--runtime podman: ${check.reason}` : `the pods of ${dataDir} run on podman, and ${check.reason}: `
        + `\`convergit stop --data-dir ${dataDir}\` forgets that (after stopping what it can), or pass --runtime podman once it works`);
    } else {
      chosen = processRuntime(check.reason);
    }
  }
  if (!recorded) writeFileSync(file(dataDir), `${JSON.stringify({ runtime: chosen.name, since: new Date().toISOString() })}\n`);
  return chosen;
}

const processRuntime = (reason: string): ChosenRuntime => ({ runtime: new ProcessRuntime(), name: 'process', version: 'process://', reason, close: () => {} });
