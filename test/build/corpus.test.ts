// Every kustomization of ../shared/corpus (read in place, never copied into the project) builds, or fails with
// its own clear error; the ones that cannot build are listed below with the reason. Validating the output is
// the loader's business, tested elsewhere: this test checks the build only.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readdirSync } from 'node:fs';
import { posix } from 'node:path';
import { DirectoryTree } from './directory-tree.ts';
import { kustomizeMissing } from './helpers.ts';
import { buildManifests, BUILT_NAME } from '../../src/build/build-manifests.ts';
import { Builder } from '../../src/build/builder.ts';
import { isKustomizationFile, readKustomization } from '../../src/build/kustomization-file.ts';
import { parseYaml } from '../../src/manifests/parse.ts';
import { CORPUS } from '../corpus/corpus-load.ts';


/** Kustomization folders that cannot build, why, and the error that must say so. */
const UNBUILDABLE: Record<string, { why: string; error: RegExp }> = {
  'kustomize-examples/examples/ldap/overlays/production': { why: "the base's configMapGenerator input env.startup.txt is not YAML and was not copied into the corpus", error: /env\.startup\.txt: no such file or directory/ },
  'kustomize-examples/examples/ldap/overlays/staging': { why: 'same base as production', error: /env\.startup\.txt: no such file or directory/ },
  'kustomize-examples/examples/springboot/overlays/production': { why: "the base's configMapGenerator input application.properties was not copied", error: /application\.properties: no such file or directory/ },
  'kustomize-examples/examples/springboot/overlays/staging': { why: 'same base as production', error: /application\.properties: no such file or directory/ },
  'kustomize-examples/examples/transformerconfigs/images': { why: 'points at kustomizeconfig/mykind.yaml while upstream keeps the file next to the kustomization', error: /kustomizeconfig\/mykind\.yaml/ },
  'kustomize-examples/examples/loadHttp': { why: 'remote (URL) resources and patches: refused before kustomize runs', error: /is a URL: remote bases are refused/ },
  'kubernetes-kafka/variants/prometheus-operator-example': { why: 'a remote base (github.com/coreos/kube-prometheus), and ../../consumers-prometheus that upstream does not have', error: /is a remote repository: remote bases are refused|"\.\.\/\.\.\/consumers-prometheus" is not in the repository/ },
  'kubernetes-kafka/prometheus': { why: 'a patch set meant to be added to a variant that has kafka (its own comment says so); alone it patches a StatefulSet that is not there', error: /no matches for Id StatefulSet\.v1\.apps\/kafka/ },
  'kubernetes-kafka/variants/scale-6-9': { why: 'its JSON 6902 patch removes a readinessProbe the base no longer has (fails with kustomize 5.5 upstream too)', error: /Unable to remove nonexistent key: readinessProbe/ },
};

const dirOf = (p: string) => posix.dirname(p);

test('every kustomization of the corpus builds, is a base of one that does, or fails with its own listed error', async () => {
  if (!existsSync(CORPUS)) { console.log(`  skipped: no corpus at ${CORPUS}`); return; }
  if (await kustomizeMissing('corpus builds')) return;
  const tree = new DirectoryTree(CORPUS);
  const builder = new Builder();
  const failed = new Map<string, string[]>();
  const accounted = new Set<string>();
  let built = 0;
  for (const source of readdirSync(CORPUS, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort()) {
    const files = await tree.files(source);
    const r = await buildManifests(files, tree, { root: source, builder });
    for (const f of r.files.filter((x) => x.path.endsWith(`/${BUILT_NAME}`))) {
      const parsed = parseYaml(f.content, f.path, 100);
      assert.not.ok(parsed.error, `${f.path}: ${parsed.error?.message}`);
      assert.ok(parsed.docs.length > 0, `${f.path} built nothing`);
      accounted.add(dirOf(f.path));
      built++;
    }
    for (const i of r.issues) {
      if (i.severity === 'warning') { accounted.add(dirOf(i.file)); continue; }
      // kustomize's errors sit at the line they are about (maybe in a base) and name the folder being built.
      const top = /^(?:kubectl kustomize|kustomize build) (\S+) failed:/.exec(i.message)?.[1] ?? dirOf(i.file);
      failed.set(top, [...(failed.get(top) ?? []), i.message]);
    }
    // A base is built inside what references it.
    for (const k of files.filter((f) => isKustomizationFile(f.path))) {
      for (const ref of readKustomization(k.content, k.path).refs.filter((x) => x.follow)) accounted.add(posix.normalize(posix.join(dirOf(k.path), ref.value)));
    }
    for (const k of files.filter((f) => isKustomizationFile(f.path))) {
      const dir = dirOf(k.path);
      assert.ok(accounted.has(dir) || failed.has(dir), `${k.path}: neither built, nor a base, nor failed`);
    }
  }
  for (const [dir, messages] of failed) {
    const known = UNBUILDABLE[dir];
    assert.ok(known, `${dir} failed and is not listed as unbuildable:\n${messages.join('\n')}`);
    for (const m of messages) assert.match(m, known.error, `${dir}: ${m}`);
  }
  for (const dir of Object.keys(UNBUILDABLE)) assert.ok(failed.has(dir), `${dir} is listed as unbuildable but built: remove it from the list`);
  assert.ok(built >= 30, `only ${built} kustomizations built`);
  console.log(`  corpus: ${built} kustomizations built, ${failed.size} listed as unbuildable failed with their own error`);
});

test.run();
