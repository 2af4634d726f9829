// Two real serves with different data folders on one machine at once: disjoint pod and Service addresses; a
// restart keeps its blocks (freeing them is tested in test/cli/address-blocks.test.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeRepo, type TestRepo } from '../support/git-repo.ts';
import { startServe, type ServeProcess } from '../support/serve-process.ts';
import { until } from '../support/wait.ts';
import { inCidr } from '../../src/model/ip-pool.ts';

const service = 'apiVersion: v1\nkind: Service\nmetadata: { name: web }\nspec:\n  selector: { app: web }\n  ports: [{ port: 80 }]\n';
let repo: TestRepo, dirA: string, dirB: string, a: ServeProcess | undefined, b: ServeProcess | undefined;

/** The serve's blocks as its log says, and the addresses it gave: its node's podCIDR, the Service's clusterIP. */
async function addresses(s: ServeProcess) {
  const m = /addresses: pods from (\S+), Services from (\S+)/.exec(s.output());
  assert.ok(m, s.output());
  const podCIDR = await until(async () => (await s.get('/api/v1/nodes')).body?.items?.[0]?.spec?.podCIDR as string | undefined, 'a node', 20_000);
  const clusterIP = await until(async () => (await s.get('/api/v1/namespaces/default/services/web')).body?.spec?.clusterIP as string | undefined, 'the Service', 20_000);
  return { cluster: m![1], service: m![2], podCIDR, clusterIP };
}

test.before(() => {
  repo = makeRepo({ 'service.yaml': service });
  dirA = mkdtempSync(path.join(tmpdir(), 'convergit-blocks-a-'));
  dirB = mkdtempSync(path.join(tmpdir(), 'convergit-blocks-b-'));
});

test.after(async () => {
  await a?.shutdown();
  await b?.shutdown();
  repo.cleanup();
  rmSync(dirA, { recursive: true, force: true });
  rmSync(dirB, { recursive: true, force: true });
});

test('two serves at once get disjoint blocks; a restart keeps its own', async () => {
  a = await startServe(['--repo', repo.dir, '--data-dir', dirA], { listenTimeoutMs: 60_000 });
  b = await startServe(['--repo', repo.dir, '--data-dir', dirB], { listenTimeoutMs: 60_000 });
  const [ia, ib] = [await addresses(a), await addresses(b)];
  assert.is.not(ia.cluster, ib.cluster);
  assert.is.not(ia.service, ib.service);
  for (const [x, y] of [[ia, ib], [ib, ia]]) {
    assert.ok(inCidr(x.podCIDR.replace(/\/\d+$/, ''), x.cluster), JSON.stringify(x));
    assert.ok(inCidr(x.clusterIP, x.service), JSON.stringify(x));
    assert.not.ok(inCidr(x.clusterIP, y.service), JSON.stringify([x, y]));
    assert.not.ok(inCidr(x.podCIDR.replace(/\/\d+$/, ''), y.cluster), JSON.stringify([x, y]));
  }
  await a.stop();
  a = await startServe(['--repo', repo.dir, '--data-dir', dirA], { listenTimeoutMs: 60_000 });
  assert.equal(await addresses(a), ia, 'the restarted serve keeps its blocks and addresses');
});

test.run();
