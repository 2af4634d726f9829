import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadManifests } from '../../src/manifests/load-manifests.ts';
import type { ManifestFile } from '../../src/manifests/types.ts';

const ns = (name: string) => `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${name}}\n`;
const issues = (files: ManifestFile[], opts = {}) => loadManifests(files, opts).issues.map((i) => `${i.file}:${i.line}:${i.column}: ${i.message}`);

test('a file over the per-file limit is refused, naming the file', () => {
  const big = ns('big') + '# ' + 'x'.repeat(2000) + '\n';
  assert.equal(issues([{ path: 'big.yaml', content: big }, { path: 'ok.yaml', content: ns('ok') }], { maxFileBytes: 1024 }), [
    'big.yaml:1:1: file is 2 KiB, over the 1 KiB limit per file',
  ]);
});

test('the default per-file limit is 8 MiB', () => {
  const big = ns('big') + '# ' + 'x'.repeat(8 * 1024 * 1024) + '\n';
  assert.equal(issues([{ path: 'big.yaml', content: big }]), ['big.yaml:1:1: file is 8 MiB, over the 8 MiB limit per file']);
});

test('standard install manifests load: a 2 MiB file of 60 documents', () => {
  const doc = (i: number) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c${i}}\ndata:\n  blob: ${'x'.repeat(35 * 1024)}\n`;
  const content = Array.from({ length: 60 }, (_, i) => doc(i)).join('---\n');
  assert.ok(content.length > 2 * 1024 * 1024);
  const r = loadManifests([{ path: 'install.yaml', content }]);
  assert.equal(r.issues, []);
  assert.is(r.objects.length, 60);
});

test('the total limit refuses the file that crosses it and stops', () => {
  const files = ['a', 'b', 'c'].map((n) => ({ path: `${n}.yaml`, content: ns(n) + '#'.repeat(600) + '\n' }));
  const r = loadManifests(files, { maxTotalBytes: 1000 });
  assert.equal(r.issues.map((i) => `${i.file}: ${i.message}`), ['b.yaml: file takes the manifests over the 1000 bytes total limit; it and later files are not loaded']);
  assert.equal(r.objects.map((o) => o.object.metadata.name), ['a']);
});

test('symlinks are refused', () => {
  assert.equal(issues([{ path: 'link.yaml', content: 'target.yaml', symlink: true }]), ['link.yaml:1:1: file is a symbolic link; symlinks are refused in manifests']);
});

test("files outside the root or with '..' segments are refused", () => {
  const files = [
    { path: 'deploy/app.yaml', content: ns('in') },
    { path: 'deploy-other/app.yaml', content: ns('prefix-only') },
    { path: 'other/app.yaml', content: ns('out') },
    { path: 'deploy/../secrets.yaml', content: ns('dots') },
    { path: '/etc/app.yaml', content: ns('abs') },
  ];
  const r = loadManifests(files, { root: 'deploy/' });
  assert.equal(r.issues.map((i) => `${i.file}: ${i.message}`), [
    "/etc/app.yaml: file is outside the repository (absolute paths and '..' are refused)",
    'deploy-other/app.yaml: file is outside the manifest path "deploy"',
    "deploy/../secrets.yaml: file is outside the repository (absolute paths and '..' are refused)",
    'other/app.yaml: file is outside the manifest path "deploy"',
  ]);
  assert.equal(r.objects.map((o) => o.object.metadata.name), ['in']);
  assert.equal(issues([{ path: 'a/../b.yaml', content: ns('x') }]), ["a/../b.yaml:1:1: file is outside the repository (absolute paths and '..' are refused)"], "'..' is refused without a root too");
  assert.equal(issues([{ path: 'any/where.yaml', content: ns('x') }], { root: '' }), [], 'an empty root is the whole repository');
});

test.run();
