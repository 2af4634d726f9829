// Shared helpers for the manifests tests: fixture files and compact issue listings.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadManifests } from '../../src/manifests/load-manifests.ts';
import type { LoadOptions, LoadResult, ManifestFile } from '../../src/manifests/types.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

/** A fixture file or directory (recursively) under fixtures/manifests/, paths relative to the repository. */
export function fixture(rel: string): ManifestFile[] {
  const path = join('fixtures/manifests', rel);
  if (!statSync(join(ROOT, path)).isDirectory()) return [{ path, content: readFileSync(join(ROOT, path), 'utf8') }];
  return readdirSync(join(ROOT, path)).flatMap((f) => fixture(join(rel, f)));
}

/** Loads one YAML text as `t.yaml`. */
export const load = (content: string, opts?: LoadOptions, path = 't.yaml'): LoadResult => loadManifests([{ path, content }], opts);

/** `severity line:column field: message`, one per issue. */
export const brief = (r: LoadResult) => r.issues.map((i) => `${i.severity} ${i.line}:${i.column} ${i.field ?? '-'}: ${i.message}`);

/** Issues as `field: message`, without positions, for rule tests. */
export const messages = (r: LoadResult) => r.issues.map((i) => `${i.field}: ${i.message}`);

/** A minimal valid Deployment with `spec` lines spliced in under the container (indented for it). */
export function deployment(containerExtra = '', specExtra = ''): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
${specExtra}  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: web:1
${containerExtra}`;
}
