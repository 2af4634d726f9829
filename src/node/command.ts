// What a container runs and where: command + args with `$(VAR)` expanded from its environment (Kubernetes rules),
// from the image's folder (git images) or the pod's scratch folder (any other image name: a host command).
import { isAbsolute, resolve } from 'node:path';
import { ConfigError } from './env.ts';
import { expand } from './expand.ts';

/** argv for the container. convergit images have no entrypoint, so a container must say what it runs. */
export function containerArgv(container: { name: string; command?: string[]; args?: string[] }, env: Record<string, string>): string[] {
  if (!container.command?.length) {
    throw new ConfigError(`container "${container.name}" has no command: convergit images have no entrypoint, so set "command" (e.g. command: ["node", "server.js"])`);
  }
  const lookup = (name: string) => (Object.prototype.hasOwnProperty.call(env, name) ? env[name] : undefined);
  return [...container.command, ...(container.args ?? [])].map((a) => expand(String(a), lookup));
}

/** The working directory: workingDir (a relative one inside `base`), else `base` itself. */
export const containerCwd = (workingDir: string | undefined, base: string) =>
  !workingDir ? base : isAbsolute(workingDir) ? workingDir : resolve(base, workingDir);
