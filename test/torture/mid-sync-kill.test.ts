// kill -9 of serve in the middle of a sync: the next serve resumes that revision at once and records its outcome
// (the 'Synced: applied revision' line, /status and the history), before its controllers and nodes start.
//
// To kill in the middle for certain, the revision is a kustomization and its build is held: `kustomize` on serve's
// PATH is a script that says it has started, waits while a hold file exists, then runs kubectl's kustomize. The
// kill comes once the build has started and the attempt is on disk; the hold is lifted for the next serve.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeRepo } from '../support/git-repo.ts';
import { startServe, type ServeProcess } from '../support/serve-process.ts';
import { until } from '../support/wait.ts';
import { readStateFile } from '../../src/store/persist.ts';

const configMaps = (version: number, n = 20) => Array.from({ length: n }, (_, i) => `apiVersion: v1
kind: ConfigMap
metadata:
  name: c${i}
data:
  version: "v${version}"
`).join('---\n');

const KUSTOMIZE = `#!/bin/sh
# kustomize held by the test: 'version' answers at once; a build says it started, then waits while $GATE/hold exists.
if [ "$1" = version ]; then echo v5.5.0; exit 0; fi
shift
touch "$GATE/building"
while [ -e "$GATE/hold" ]; do sleep 0.05; done
exec kubectl kustomize "$@"
`;

test('kill -9 mid-sync: the next serve resumes the revision at once and records its outcome', async () => {
  const repo = makeRepo({ 'kustomization.yaml': 'resources: [config.yaml]\n', 'config.yaml': configMaps(0) });
  const dataDir = mkdtempSync(path.join(tmpdir(), 'convergit-mid-sync-'));
  const gate = mkdtempSync(path.join(tmpdir(), 'convergit-mid-sync-gate-'));
  mkdirSync(path.join(gate, 'bin'));
  writeFileSync(path.join(gate, 'bin', 'kustomize'), KUSTOMIZE);
  chmodSync(path.join(gate, 'bin', 'kustomize'), 0o755);
  const env = { ...process.env, GATE: gate, PATH: `${path.join(gate, 'bin')}:${process.env.PATH}` };
  const args = ['--repo', repo.dir, '--data-dir', dataDir, '--nodes', '0'];
  let serve: ServeProcess | undefined;
  try {
    serve = await startServe(args, { env, listenTimeoutMs: 120_000 });
    await until(async () => (await serve!.get('/status')).body?.sync === 'Synced', 'the first sync', 60_000);
    writeFileSync(path.join(gate, 'hold'), '');
    rmSync(path.join(gate, 'building'), { force: true });
    repo.write('config.yaml', configMaps(1));
    const sha = repo.commit('v1');
    const short = sha.slice(0, 7);
    // The build has started (the sync is validating) and the attempt is on disk: the kill cuts the sync off.
    await until(() => existsSync(path.join(gate, 'building')), 'the build of v1 to start', 60_000);
    await until(async () => ((await readStateFile(path.join(dataDir, 'state.json'))).meta.sync as any)?.lastAttempted === sha, 'the attempt of v1 on disk', 30_000);
    await serve.stop('SIGKILL');
    rmSync(path.join(gate, 'hold'));
    assert.not.ok(serve.output().includes(`Synced: applied revision ${short}`), 'the killed serve had not applied it');
    serve = await startServe(args, { env, listenTimeoutMs: 120_000 });
    const out = serve.output();
    // The new serve says it resumes the revision and has its outcome before it says it serves: the sync loop runs
    // first, before the controllers and nodes start, with no wait for a watch or a poll of git.
    assert.ok(out.includes(`sync: resuming revision ${short}, which the previous run had not recorded as applied`), out);
    const synced = out.indexOf(`Synced: applied revision ${short}`);
    assert.ok(synced >= 0 && synced < out.indexOf('serving http'), out);
    assert.ok(out.indexOf('Synced: applied') < out.indexOf('addresses: pods from'), 'the sync ran before the engine started');
    // The watcher's first look may run one more pass (it finds the same head): /status says Synced once it ends.
    const status = await until(async () => { const s = (await serve!.get('/status')).body; return s.state !== 'fetching' && s; }, 'the sync loop at rest', 30_000);
    assert.is(status.sync, 'Synced', status.message);
    assert.is(status.lastAppliedRevision, sha);
    assert.is(status.lastAttemptedRevision, sha);
    const entries = status.history.filter((h: any) => h.sha === sha);
    assert.is(entries.length, 1, 'one history entry for the revision');
    assert.is(entries[0].result, 'Applied');
    assert.ok(entries[0].appliedAt);
    // Applied whole: every object at v1.
    const list = (await serve.get('/api/v1/namespaces/default/configmaps')).body.items as any[];
    const ours = list.filter((c) => /^c\d+$/.test(c.metadata.name));
    assert.is(ours.length, 20);
    assert.equal([...new Set(ours.map((c) => c.data.version))], ['v1']);
  } finally {
    rmSync(path.join(gate, 'hold'), { force: true }); // a held build of the killed serve ends
    await serve?.shutdown().catch(() => {});
    repo.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(gate, { recursive: true, force: true });
  }
});

test.run();
