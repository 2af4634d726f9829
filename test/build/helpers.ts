// Repositories with kustomizations, loaded as serve loads them (GitSource + loadDesired) with a private Builder.
import { tmpdir } from 'node:os';
import { GitSource } from '../../src/source/git-source.ts';
import { loadDesired } from '../../src/sync/desired.ts';
import { Builder } from '../../src/build/builder.ts';
import { findKustomize } from '../../src/build/kustomize-tool.ts';
import { formatIssue } from '../../src/model/issue.ts';

export async function loadAt(dir: string, sha: string, opts: { path?: string; builder?: Builder } = {}) {
  const source = new GitSource({ repo: dir, branch: 'main', path: opts.path ?? '', dataDir: tmpdir(), interval: 0 });
  await source.prepare();
  const result = await loadDesired(await source.read(sha), source, { root: opts.path ?? '' }, opts.builder ?? new Builder());
  return { ...result, lines: result.issues.map(formatIssue), names: result.objects.map((d) => `${d.object.kind}/${d.object.metadata.name}`).sort() };
}

/** Tests that need kustomize say so and stop when neither kustomize nor kubectl is on PATH. */
export async function kustomizeMissing(what: string): Promise<boolean> {
  if (await findKustomize()) return false;
  console.log(`  skipped: ${what}: neither kustomize nor kubectl is on PATH`);
  return true;
}

export const deployment = (name: string, extra = '') => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  labels: {app: ${name}}
spec:
  replicas: 1
  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      containers:
      - name: ${name}
        image: busybox
        command: [sleep, "3600"]${extra}
`;

export const configMap = (name: string, data = 'a: "1"') => `apiVersion: v1
kind: ConfigMap
metadata:
  name: ${name}
data:
  ${data}
`;
