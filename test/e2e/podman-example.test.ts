// What `npm start` runs, on podman with two nodes: the bundled examples-repo (`serve --example`), untouched. The web
// pods and the backend spread over both nodes, each pod in its own network namespace on its node's bridge; the
// frontend counts visits through the backend's ClusterIP from either node; the status page lists the pods with
// their nodes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inCidr } from '../../src/model/ip-pool.ts';
import { exampleApi } from '../support/example.ts';
import { podmanMissing, removeInstance, removeLeftoverNetworks } from '../support/podman.ts';
import { startServe, type ServeProcess } from '../support/serve-process.ts';
import { until } from '../support/wait.ts';

const missing = podmanMissing();
if (missing) {
  console.log(`e2e podman example: skipped, ${missing}`);
} else {
  let dataDir: string, serve: ServeProcess;
  const pods = async () => ((await serve.get('/api/v1/namespaces/default/pods')).body.items as any[]).filter((p) => p.status?.phase === 'Running');
  const ready = (p: any) => p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True');
  /** The example's fixed node port (the test runs in a network namespace of its own, as `npm test` does). */
  const api = () => exampleApi();

  test.before(async () => {
    removeLeftoverNetworks('10-242-');
    dataDir = mkdtempSync(join(tmpdir(), 'convergit-e2e-podman-example-'));
    serve = await startServe(['--example', '--data-dir', dataDir, '--runtime', 'podman', '--nodes', '2', '--cluster-cidr', '10.242.0.0/16',
      '--service-cidr', '10.241.0.0/16', '--ingress-port', '0'], { listenTimeoutMs: 60_000 });
  });

  test.after(async () => {
    await serve?.stop();
    removeInstance(dataDir);
    removeLeftoverNetworks('10-242-');
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('the example on two podman nodes: pods on both, the counter counts from either node, the page shows where each pod runs', async () => {
    const running = await until(async () => {
      const ps = (await pods()).filter(ready);
      return ps.filter((p) => p.metadata.labels?.app === 'web').length === 3 && ps.some((p) => p.metadata.name === 'backend-0') && ps;
    }, 'three web pods and backend-0 Running and Ready', 120_000).catch((e) => { throw new Error(`${e.message}\n${serve.output()}`); });
    const nodes = (await serve.get('/api/v1/nodes')).body.items as any[];
    assert.equal(nodes.map((n) => n.metadata.name).sort(), ['vm-1', 'vm-2']);
    const cidrOf = new Map(nodes.map((n) => [n.metadata.name, n.spec.podCIDR as string]));
    assert.equal(new Set(running.map((p) => p.spec.nodeName)).size, 2, 'the pods spread over both nodes');
    for (const p of running) assert.ok(inCidr(p.status.podIP, cidrOf.get(p.spec.nodeName)!), `${p.metadata.name} has ${p.status.podIP}, in ${p.spec.nodeName}'s ${cidrOf.get(p.spec.nodeName)}`);
    // Each answer counts one visit more, whichever node answered: asked until every node with a web pod has answered,
    // one of them not the backend's (its pod reaches the backend's ClusterIP across the nodes' bridges).
    const backendNode = running.find((p) => p.metadata.name === 'backend-0').spec.nodeName;
    const webNode = new Map(running.filter((p) => p.metadata.labels?.app === 'web').map((p) => [p.metadata.name, p.spec.nodeName]));
    assert.ok([...webNode.values()].some((n) => n !== backendNode), 'a web pod on the node without the backend');
    const answers = [await api()];
    await until(async () => {
      answers.push(await api());
      return [...webNode.values()].every((n) => answers.some((a) => webNode.get(a.pod) === n));
    }, 'answers from the web pods of both nodes', 30_000).catch((e) => { throw new Error(`${e.message}: ${JSON.stringify(answers)}`); });
    const visits = answers.map((a) => a.visits);
    assert.ok(typeof visits[0] === 'number', `the backend answered: ${JSON.stringify(answers)}`);
    assert.equal(visits, visits.map((_, i) => (visits[0] as number) + i), 'one more visit per answer, whichever node answered');
    // The status page: every running pod in a row with its node.
    const page = (await serve.get('/')).text;
    const rows = page.split('<tr>');
    for (const p of running) {
      const row = rows.find((r) => r.includes(`<td>${p.metadata.name}</td>`));
      assert.ok(row?.includes(`<td>${p.spec.nodeName}</td>`), `the page shows ${p.metadata.name} on ${p.spec.nodeName}: ${row}`);
    }
  });

  test.run();
}
