// The securityContext and limits on the process runtime: runAsUser/runAsGroup applied when serve is root (setpriv),
// allowPrivilegeEscalation: false as no_new_privs, and what a host process cannot have (a read-only root,
// capabilities, cgroup limits) named in a Warning event instead of being silently ignored.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { processSecurity } from '../../src/node/runtime/process-security.ts';
import { ProcessRuntime } from '../../src/node/runtime/process.ts';
import type { ContainerLaunch } from '../../src/node/runtime/runtime.ts';
import { containerLogFile, presentLog } from '../../src/node/logs.ts';
import { until } from '../support/wait.ts';
import { cleanup, fastNode, nodePod, openTestStore, tempDir } from './helpers.ts';

test.after.each(cleanup);

const root = { uid: 0, gid: 0 }, user = { uid: 1000, gid: 1000 };
const isRoot = process.getuid?.() === 0;

test('what is applied and what is warned about, as root and not', async () => {
  assert.equal(await processSecurity({}, root), { prefix: [], warnings: [] });
  assert.equal((await processSecurity({ security: { runAsUser: 4242, runAsGroup: 7 } }, root)).prefix,
    ['setpriv', '--reuid=4242', '--regid=7', '--clear-groups', '--']);
  assert.equal((await processSecurity({ security: { runAsUser: 4242 } }, root)).prefix, ['setpriv', '--reuid=4242', '--regid=0', '--clear-groups', '--'],
    'a uid the host does not know: group 0, as runc gives');
  assert.equal((await processSecurity({ security: { runAsGroup: 7 } }, root)).prefix, ['setpriv', '--reuid=0', '--regid=7', '--clear-groups', '--'], 'a group alone');
  assert.equal(await processSecurity({ security: { allowPrivilegeEscalation: false } }, user), { prefix: ['setpriv', '--no-new-privs', '--'], warnings: [] });
  assert.equal(await processSecurity({ security: { runAsUser: 1000, runAsGroup: 1000 } }, user), { prefix: [], warnings: [] }, 'already that user');
  const not = await processSecurity({
    security: { runAsUser: 65534, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } }, resources: { memoryLimitBytes: 1 << 20, cpuLimitMillis: 500, cpuRequestMillis: 500 },
  }, user);
  assert.equal(not.prefix, []);
  assert.equal(not.warnings, ['runAsUser, readOnlyRootFilesystem, capabilities, limits.memory, limits.cpu not enforced: the process runtime runs host processes'
    + ' without a container engine (a different user needs serve to run as root)']);
  assert.equal((await processSecurity({ resources: { cpuRequestMillis: 250 } }, root)).warnings, [], 'a request is no limit');
});

test('a real process runs as the user and group asked, with no_new_privs; its exec too', async () => {
  const dir = await tempDir();
  const runtime = new ProcessRuntime();
  const launch: ContainerLaunch = {
    id: 'default/ids/main', argv: ['sh', '-c', 'echo "$(id -u):$(id -g):$(id -G)"; grep NoNewPrivs /proc/self/status'], env: {}, cwd: '/', logFile: join(dir, 'ids.log'),
    security: { runAsUser: 4242, runAsGroup: 4343, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true },
  };
  const c = await runtime.start(launch);
  const exit = await c.exited;
  const log = presentLog(await readFile(launch.logFile, 'utf8'), {});
  assert.is(exit.exitCode, 0, log);
  if (isRoot) assert.match(log, /^4242:4343:4343\nNoNewPrivs:\s+1\n$/);
  else assert.match(log, new RegExp(`^${process.getuid!()}:.*\\nNoNewPrivs:\\s+1\\n$`));
  assert.equal(c.warnings, [`${isRoot ? '' : 'runAsUser, runAsGroup, '}readOnlyRootFilesystem not enforced: the process runtime runs host processes without a container engine${isRoot ? '' : ' (a different user needs serve to run as root)'}`]);
  const ex = await runtime.exec(launch, ['id', '-u'], 5000);
  assert.is(ex.output.trim(), isRoot ? '4242' : String(process.getuid!()));
});

test('through the node: a runAsUser pod runs as that user, and the fields not enforced are a Warning event', async () => {
  const dir = await tempDir();
  const store = await openTestStore(dir);
  await fastNode(store, dir);
  await store.create(nodePod('nobody', '', {
    spec: { securityContext: { runAsUser: 65534, runAsGroup: 65534 } },
    container: { command: ['sh', '-c', 'id -u; exec sleep 60'], securityContext: { readOnlyRootFilesystem: true }, resources: { limits: { memory: '64Mi' } } },
  }));
  const warning = await until(async () => (await store.list('Event', { namespace: 'default' }))
    .find((e: any) => e.involvedObject?.name === 'nobody' && e.reason === 'ResourcesNotEnforced') as any, 'the ResourcesNotEnforced event');
  assert.is(warning.type, 'Warning');
  assert.match(warning.message, /^Container main: (runAsUser, runAsGroup, )?readOnlyRootFilesystem, limits\.memory not enforced: the process runtime/);
  if (isRoot) {
    const pod = (await store.get('Pod', 'default', 'nobody'))!;
    const log = containerLogFile(dir, { namespace: 'default', name: 'nobody', uid: pod.metadata.uid }, 'main', 0);
    const text = await until(async () => presentLog(await readFile(log, 'utf8').catch(() => ''), {}).trim(), 'the uid printed');
    assert.is(text, '65534');
  }
});

test.run();
