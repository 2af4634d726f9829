// `convergit kubeconfig`: what it prints, how --merge treats an existing file, and its errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { kubeconfigFor, kubeconfigPath, mergeKubeconfig } from '../../src/cli/kubeconfig.ts';

const BIN = new URL('../../bin/convergit.js', import.meta.url).pathname;
let dir: string;
test.before.each(() => { dir = mkdtempSync(path.join(tmpdir(), 'convergit-kubeconfig-')); });
test.after.each(() => rmSync(dir, { recursive: true, force: true }));

test('a context named after the data folder; http servers skip TLS verification (client-node needs it)', () => {
  const c = kubeconfigFor(path.join(dir, '.convergit'), 'http://127.0.0.1:7480');
  assert.is(c['current-context'], 'convergit-convergit');
  assert.equal(c.clusters[0].cluster, { server: 'http://127.0.0.1:7480', 'insecure-skip-tls-verify': true });
  assert.equal(kubeconfigFor(path.join(dir, 'shop'), 'https://h:6443').clusters[0].cluster, { server: 'https://h:6443' });
});

test('$KUBECONFIG: the first file named; else ~/.kube/config', () => {
  assert.is(kubeconfigPath({ KUBECONFIG: `${path.delimiter}/a/b${path.delimiter}/c` }), '/a/b');
  assert.match(kubeconfigPath({}), /\.kube\/config$/);
});

test('merge replaces an entry of the same name, keeps the others, and refuses a file that is not a kubeconfig', () => {
  const file = path.join(dir, 'config');
  writeFileSync(file, 'apiVersion: v1\nkind: Config\nclusters:\n- name: convergit-shop\n  cluster: {server: "http://old:1"}\n- name: prod\n  cluster: {server: "https://prod"}\ncontexts: []\nusers: []\ncurrent-context: prod\n');
  mergeKubeconfig(file, kubeconfigFor(path.join(dir, 'shop'), 'http://127.0.0.1:9'));
  const text = readFileSync(file, 'utf8');
  assert.match(text, /name: prod/);
  assert.not.match(text, /http:\/\/old:1/);
  assert.match(text, /current-context: convergit-shop/);
  const bad = path.join(dir, 'bad');
  writeFileSync(bad, 'clusters: [\n');
  assert.throws(() => mergeKubeconfig(bad, kubeconfigFor(dir, 'http://x')), /bad:\d+:\d+: YAML/);
  assert.is(readFileSync(bad, 'utf8'), 'clusters: [\n', 'left as it was');
  writeFileSync(bad, '- a\n- b\n');
  assert.throws(() => mergeKubeconfig(bad, kubeconfigFor(dir, 'http://x')), /not a kubeconfig/);
});

test('a stopped serve: the last URL, with a warning', () => {
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
  writeFileSync(path.join(dir, 'serve.json'), JSON.stringify({ command: 'serve', pid: dead, startedAt: new Date().toISOString(), url: 'http://127.0.0.1:7480' }));
  const r = spawnSync(process.execPath, [BIN, 'kubeconfig', '--data-dir', dir], { encoding: 'utf8' });
  assert.is(r.status, 0);
  assert.match(r.stdout, /server: http:\/\/127\.0\.0\.1:7480/);
  assert.match(r.stderr, new RegExp(`pid ${dead}\\) is not running now`));
});

test.run();
