// What a container needs from its spec when it runs from an image (podman): its argv by Kubernetes' rules over
// the image's ENTRYPOINT/CMD, its working directory, resources, securityContext, the pod's pull credentials and
// published ports. Pure functions of the spec (and the Secrets given), so the pod worker only wires them.
import type { KubeObject } from '../model/object.ts';
import { parseQuantity } from '../model/quantity.ts';
import { ConfigError } from './env.ts';
import { expand } from './expand.ts';
import type { ContainerResources, ContainerSecurity, ImageInfo, PullOptions, SandboxSpec } from './runtime/runtime.ts';

/**
 * Kubernetes' rules: `command` replaces ENTRYPOINT and drops CMD; `args` alone replace CMD; neither: the image's
 * own. `$(VAR)` is expanded in command and args only, never in what the image gives.
 */
export function imageArgv(container: { name: string; command?: string[]; args?: string[] }, image: Pick<ImageInfo, 'entrypoint' | 'cmd'>, env: Record<string, string>): string[] {
  const lookup = (name: string) => (Object.prototype.hasOwnProperty.call(env, name) ? env[name] : undefined);
  const ours = (xs: string[] | undefined) => (xs ?? []).map((a) => expand(String(a), lookup));
  const argv = container.command?.length
    ? [...ours(container.command), ...ours(container.args)]
    : [...image.entrypoint, ...(container.args?.length ? ours(container.args) : image.cmd)];
  if (!argv.length) throw new ConfigError(`container "${container.name}": no command specified (the image has no ENTRYPOINT or CMD, and the container no command)`);
  return argv;
}

/** workingDir, else the image's, else `/`. */
export const imageCwd = (workingDir: string | undefined, image: Pick<ImageInfo, 'workingDir'>) => workingDir || image.workingDir || '/';

const millis = (q: unknown) => (q === undefined || q === null ? undefined : Math.round(parseQuantity(q as string) * 1000));

export function containerResources(spec: any): ContainerResources {
  const limits = spec.resources?.limits ?? {};
  const requests = spec.resources?.requests ?? {};
  const out: ContainerResources = {};
  if (limits.memory !== undefined) out.memoryLimitBytes = Math.round(parseQuantity(limits.memory));
  const cpuLimit = millis(limits.cpu);
  if (cpuLimit) out.cpuLimitMillis = cpuLimit;
  // A limit without a request requests the limit, as the API server defaults it.
  const cpuRequest = millis(requests.cpu) ?? cpuLimit;
  if (cpuRequest !== undefined) out.cpuRequestMillis = cpuRequest;
  return out;
}

/** The container's securityContext over the pod's (runAsUser, runAsGroup), as Kubernetes merges them. */
export function containerSecurity(pod: KubeObject, spec: any): ContainerSecurity {
  const p = pod.spec?.securityContext ?? {};
  const c = spec.securityContext ?? {};
  const out: ContainerSecurity = {};
  const runAsUser = c.runAsUser ?? p.runAsUser;
  const runAsGroup = c.runAsGroup ?? p.runAsGroup;
  if (runAsUser !== undefined) out.runAsUser = runAsUser;
  if (runAsGroup !== undefined) out.runAsGroup = runAsGroup;
  if (c.readOnlyRootFilesystem) out.readOnlyRootFilesystem = true;
  if (c.capabilities?.add?.length || c.capabilities?.drop?.length) out.capabilities = { add: c.capabilities.add, drop: c.capabilities.drop };
  if (c.allowPrivilegeEscalation !== undefined) out.allowPrivilegeEscalation = c.allowPrivilegeEscalation;
  if (c.privileged) out.privileged = true;
  return out;
}

/** Container ports with a hostPort, published by the sandbox. */
export function hostPorts(pod: KubeObject): SandboxSpec['hostPorts'] {
  const out: SandboxSpec['hostPorts'] = [];
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) {
      if (p.hostPort) out.push({ containerPort: p.containerPort, hostPort: p.hostPort, protocol: p.protocol ?? 'TCP', ...(p.hostIP && { hostIP: p.hostIP }) });
    }
  }
  return out;
}

/** Kubernetes' default: Always for :latest or no tag (without a digest), else IfNotPresent. */
export function pullPolicy(spec: { image?: string; imagePullPolicy?: string }): PullOptions['policy'] {
  if (spec.imagePullPolicy === 'Always' || spec.imagePullPolicy === 'IfNotPresent' || spec.imagePullPolicy === 'Never') return spec.imagePullPolicy;
  const image = spec.image ?? '';
  if (image.includes('@')) return 'IfNotPresent';
  const tag = /:([\w][\w.-]*)$/.exec(image.slice(image.lastIndexOf('/') + 1))?.[1];
  return !tag || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

type Auths = NonNullable<PullOptions['auth']>['auths'];

/**
 * The registries' credentials from the pod's imagePullSecrets (`kubernetes.io/dockerconfigjson`, and the older
 * `kubernetes.io/dockercfg`), merged, the first secret winning for a registry as the kubelet does. Secrets that
 * are missing or unreadable are reported in `problems`, and the pull goes on without them, as in Kubernetes.
 */
export function pullAuth(pod: KubeObject, secrets: ReadonlyMap<string, KubeObject>): { auth?: PullOptions['auth']; problems: string[] } {
  const auths: Auths = {};
  const problems: string[] = [];
  for (const ref of pod.spec?.imagePullSecrets ?? []) {
    const s = secrets.get(ref.name);
    if (!s) {
      problems.push(`Unable to retrieve some image pull secrets (${ref.name}); attempting to pull the image may not succeed.`);
      continue;
    }
    const data = (s.data ?? {}) as Record<string, string>;
    const stringData = (s.stringData ?? {}) as Record<string, string>;
    const text = (key: string) => (stringData[key] !== undefined ? String(stringData[key]) : data[key] !== undefined ? Buffer.from(String(data[key]), 'base64').toString('utf8') : undefined);
    try {
      let found: Auths | undefined;
      if (s.type === 'kubernetes.io/dockerconfigjson') found = JSON.parse(text('.dockerconfigjson') ?? '{}').auths;
      else if (s.type === 'kubernetes.io/dockercfg') found = JSON.parse(text('.dockercfg') ?? '{}');
      else problems.push(`image pull secret "${ref.name}" is of type ${s.type ?? 'Opaque'}, not kubernetes.io/dockerconfigjson`);
      for (const [registry, cred] of Object.entries(found ?? {})) if (!(registry in auths)) auths[registry] = cred;
    } catch (e) {
      problems.push(`image pull secret "${ref.name}" holds no valid docker config: ${(e as Error).message}`);
    }
  }
  return { ...(Object.keys(auths).length && { auth: { auths } }), problems };
}
