// Init containers, sidecars, lifecycle hooks and termination messages on a real node (process runtime): the order
// things run in, seen through files the containers write, and the statuses kubectl would show along the way.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { until } from '../support/wait.ts';
import { cleanup, fastNode, nodePod, openTestStore, tempDir } from './helpers.ts';
import { podStatusText } from '../../src/api/tables.ts';
import type { KubeObject } from '../../src/model/object.ts';
import type { LowdbStore } from '../../src/store/lowdb-store.ts';

test.after.each(cleanup);

const js = (script: string) => [process.execPath, '-e', script];
/** A line appended to the journal file: how each container and hook tells the test that it ran, and in which order. */
const note = (journal: string, what: string) => `require('fs').appendFileSync(${JSON.stringify(journal)}, ${JSON.stringify(what + '\n')});`;
const lines = (journal: string) => { try { return readFileSync(journal, 'utf8').trim().split('\n').filter(Boolean); } catch { return []; } };

/** Every STATUS kubectl would have shown for the pod, in order, from the store's watch. */
async function statusesOf(store: LowdbStore, name: string): Promise<string[]> {
  const seen: string[] = [];
  await store.watch({ kind: 'Pod', namespace: 'default' }, (e) => {
    if (e.object.metadata.name !== name || !e.object.status) return;
    const s = podStatusText(e.object as KubeObject);
    if (seen.at(-1) !== s) seen.push(s);
  });
  return seen;
}

const pod = (store: LowdbStore, name: string) => store.get('Pod', 'default', name);

test('init containers run in order to completion (a failing one restarted) before the app containers; statuses as kubectl shows them', async () => {
  const dir = await tempDir();
  const store = await openTestStore(dir);
  await fastNode(store, dir);
  const journal = join(dir, 'journal');
  const seen = await statusesOf(store, 'init');
  await store.create(nodePod('init', `${note(journal, 'app')} setInterval(() => {}, 1000)`, {
    spec: {
      initContainers: [
        // Fails on its first run, succeeds on its second.
        { name: 'first', image: 'host', command: js(`${note(journal, 'first')} const f = ${JSON.stringify(join(dir, 'once'))}; if (!require('fs').existsSync(f)) { require('fs').writeFileSync(f, ''); process.exit(3); }`) },
        { name: 'second', image: 'host', command: js(note(journal, 'second')) },
      ],
    },
  }));
  const running = await until(async () => { const p = await pod(store, 'init'); return p?.status?.phase === 'Running' && p; }, 'the pod Running');
  await until(() => lines(journal).includes('app'), 'the app container running');
  assert.equal(lines(journal), ['first', 'first', 'second', 'app']);
  const inits = running.status.initContainerStatuses;
  assert.equal(inits.map((c: any) => c.name), ['first', 'second'], 'in spec order');
  assert.equal(inits.map((c: any) => [c.state.terminated?.reason, c.restartCount, c.ready]), [['Completed', 1, true], ['Completed', 0, true]]);
  assert.is(inits[0].lastState.terminated.exitCode, 3);
  const initialized = running.status.conditions.find((c: any) => c.type === 'Initialized');
  assert.is(initialized.status, 'True');
  await until(() => seen.at(-1) === 'Running', 'Running shown');
  assert.is(seen.filter((s) => s !== 'Pending')[0], 'Init:0/2', 'before the node reported, the pod was Pending');
  assert.ok(seen.includes('Init:Error') || seen.includes('Init:CrashLoopBackOff'), `the failure shown: ${seen}`);
  assert.ok(seen.indexOf('Init:1/2') > 0 || seen.includes('PodInitializing'), `progress shown: ${seen}`);
});

test('restartPolicy Never: a failing init container fails the pod and no app container runs', async () => {
  const dir = await tempDir();
  const store = await openTestStore(dir);
  await fastNode(store, dir);
  const journal = join(dir, 'journal');
  await store.create(nodePod('doomed', note(journal, 'app'), {
    spec: { restartPolicy: 'Never', initContainers: [{ name: 'fails', image: 'host', command: js('process.exit(1)') }] },
  }));
  const failed = await until(async () => { const p = await pod(store, 'doomed'); return p?.status?.phase === 'Failed' && p; }, 'the pod Failed');
  assert.is(podStatusText(failed), 'Init:Error');
  assert.is(failed.status.containerStatuses[0].state.waiting.reason, 'PodInitializing');
  const initialized = failed.status.conditions.find((c: any) => c.type === 'Initialized');
  assert.equal([initialized.status, initialized.reason, initialized.message], ['False', 'ContainersNotInitialized', 'containers with incomplete status: [fails]']);
  assert.equal(lines(journal), []);
});

test('a sidecar starts before the next init container, runs beside the app container and stops after it', async () => {
  const dir = await tempDir();
  const store = await openTestStore(dir);
  await fastNode(store, dir);
  const journal = join(dir, 'journal');
  const onTerm = (who: string) => `process.on('SIGTERM', () => { ${note(journal, `${who} stopped`)} process.exit(0); });`;
  const finish = join(dir, 'finish');
  const app = `${note(journal, 'app')} ${onTerm('app')} setInterval(() => { if (require('fs').existsSync(${JSON.stringify(finish)})) process.exit(0); }, 20)`;
  await store.create(nodePod('side', app, {
    spec: {
      restartPolicy: 'Never',
      initContainers: [
        // Started once its startup probe sees it has begun; only then does the next init container run. The node
        // runs 1 s of a probe's timing in 20 ms: a 1 s timeout would be 20 ms, less than spawning grep takes on a
        // loaded machine (every probe then timed out, for up to 30 s), so 50 "s" make it 1 s of real time.
        {
          name: 'proxy', image: 'host', restartPolicy: 'Always', command: js(`${note(journal, 'proxy')} ${onTerm('proxy')} setInterval(() => {}, 1000)`),
          startupProbe: { exec: { command: ['grep', '-q', 'proxy', journal] }, periodSeconds: 1, timeoutSeconds: 50, failureThreshold: 1000 },
        },
        { name: 'setup', image: 'host', command: js(note(journal, 'setup')) },
      ],
    },
  }));
  const running = await until(async () => { const p = await pod(store, 'side'); return p?.status?.initContainerStatuses?.[0]?.state?.running && p?.status?.phase === 'Running' && p; }, 'app and sidecar running');
  assert.is(running.status.initContainerStatuses[0].started, true);
  assert.is(podStatusText(running), 'Running');
  writeFileSync(finish, '');
  const done = await until(async () => { const p = await pod(store, 'side'); return p?.status?.phase === 'Succeeded' && p; }, 'the pod Succeeded once the app container finished');
  assert.equal(lines(journal), ['proxy', 'setup', 'app', 'proxy stopped'], 'the sidecar is stopped after the app container exits');
  assert.ok(done.status.initContainerStatuses[0].state.terminated, 'the sidecar ended');
});

test('a sidecar that exits is restarted; one that never starts up does not hold up the pod\'s deletion', async () => {
  const dir = await tempDir();
  const store = await openTestStore(dir);
  await fastNode(store, dir);
  const quit = join(dir, 'quit');
  // Exits once when told to, then runs on.
  const sidecar = `setInterval(() => { if (require('fs').existsSync(${JSON.stringify(quit)})) { require('fs').rmSync(${JSON.stringify(quit)}); process.exit(1); } }, 20)`;
  await store.create(nodePod('restarts', 'setInterval(() => {}, 1000)', { spec: { initContainers: [{ name: 'side', image: 'host', restartPolicy: 'Always', command: js(sidecar) }] } }));
  await until(async () => (await pod(store, 'restarts'))?.status?.containerStatuses?.[0]?.state?.running, 'the app container running');
  writeFileSync(quit, '');
  const again = await until(async () => { const p = await pod(store, 'restarts'); const s = p?.status?.initContainerStatuses?.[0]; return s?.restartCount === 1 && s.state.running && p; }, 'the sidecar restarted');
  assert.is(again.status.initContainerStatuses[0].lastState.terminated.exitCode, 1);
  assert.is(again.status.phase, 'Running');

  await store.create(nodePod('stuck', 'setInterval(() => {}, 1000)', {
    spec: { initContainers: [{ name: 'side', image: 'host', restartPolicy: 'Always', command: js('setInterval(() => {}, 1000)'), startupProbe: { exec: { command: ['false'] }, periodSeconds: 1, failureThreshold: 100000 } }] },
  }));
  const stuck = await until(async () => { const p = await pod(store, 'stuck'); return p?.status?.initContainerStatuses?.[0]?.state?.running && p; }, 'the sidecar running, not started');
  assert.is(podStatusText(stuck), 'Init:0/1');
  await store.delete('Pod', 'default', 'stuck');
  await until(async () => !(await pod(store, 'stuck')), 'the pod removed');
});

test('postStart runs before the container counts as started; preStop runs before SIGTERM; a failing postStart kills the container', async () => {
  const dir = await tempDir();
  const store = await openTestStore(dir);
  await fastNode(store, dir);
  const journal = join(dir, 'journal');
  await store.create(nodePod('hooks', `${note(journal, 'main')} process.on('SIGTERM', () => { ${note(journal, 'SIGTERM')} process.exit(0); }); setInterval(() => {}, 1000)`, {
    container: {
      lifecycle: {
        postStart: { exec: { command: js(`${note(journal, 'postStart')}`) } },
        preStop: { exec: { command: js(`${note(journal, 'preStop')}`) } },
      },
    },
  }));
  await until(async () => (await pod(store, 'hooks'))?.status?.containerStatuses?.[0]?.state?.running, 'running');
  assert.ok(lines(journal).includes('postStart'), 'postStart ran before the container was reported running');
  // Running is the process started, not its script: a loaded machine (CI beside other tests) took longer to start
  // node than the delete took to come, and the SIGTERM found no handler yet.
  await until(() => lines(journal).includes('main'), "the container's script running, its SIGTERM handler set");
  await store.delete('Pod', 'default', 'hooks');
  await until(async () => !(await pod(store, 'hooks')), 'the pod removed');
  const order = lines(journal).filter((l) => l !== 'main');
  assert.equal(order, ['postStart', 'preStop', 'SIGTERM']);

  await store.create(nodePod('badhook', 'setInterval(() => {}, 1000)', { container: { lifecycle: { postStart: { exec: { command: js('process.exit(7)') } } } } }));
  const events = await until(async () => {
    const evs = (await store.list('Event', { namespace: 'default' })).filter((e: any) => e.involvedObject?.name === 'badhook');
    return evs.some((e: any) => e.reason === 'FailedPostStartHook') && evs;
  }, 'a FailedPostStartHook event');
  assert.ok(events.some((e: any) => e.reason === 'Killing' && e.message === 'FailedPostStartHook'));
  await until(async () => (await pod(store, 'badhook'))?.status?.containerStatuses?.[0]?.restartCount >= 1, 'the container restarted after its failed hook');

  // A failing preStop is an event; the container is stopped all the same.
  await store.create(nodePod('badstop', 'setInterval(() => {}, 1000)', { container: { lifecycle: { preStop: { exec: { command: js('process.exit(5)') } } } } }));
  await until(async () => (await pod(store, 'badstop'))?.status?.containerStatuses?.[0]?.state?.running, 'badstop running');
  await store.delete('Pod', 'default', 'badstop');
  await until(async () => !(await pod(store, 'badstop')), 'badstop removed');
  const stopEvents = (await store.list('Event', { namespace: 'default' })).filter((e: any) => e.involvedObject?.name === 'badstop');
  assert.ok(stopEvents.some((e: any) => e.reason === 'FailedPreStopHook' && e.message === 'PreStopHook failed'), JSON.stringify(stopEvents.map((e: any) => e.reason)));
});

test('termination messages: the file the container wrote (File) and the end of its log (FallbackToLogsOnError)', async () => {
  const dir = await tempDir();
  const store = await openTestStore(dir);
  await fastNode(store, dir);
  await store.create(nodePod('msg', "require('fs').writeFileSync(process.env.CONVERGIT_TERMINATION_MESSAGE_PATH, 'bye from msg'); process.exit(2)", { spec: { restartPolicy: 'Never' } }));
  const logLines = Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\\n');
  await store.create(nodePod('logs', `console.log(${JSON.stringify(logLines).replace(/\\\\n/g, '\\n')}); process.exit(1)`, {
    spec: { restartPolicy: 'Never' }, container: { terminationMessagePolicy: 'FallbackToLogsOnError' },
  }));
  await store.create(nodePod('quiet', 'console.log("not a message"); process.exit(1)', { spec: { restartPolicy: 'Never' } }));
  const terminated = async (name: string) => until(async () => (await pod(store, name))?.status?.containerStatuses?.[0]?.state?.terminated, `${name} terminated`);
  assert.is((await terminated('msg')).message, 'bye from msg');
  const fromLogs: string = (await terminated('logs')).message;
  assert.ok(fromLogs.endsWith('line 99\n'), fromLogs.slice(-40));
  assert.ok(fromLogs.startsWith('line 20\n'), 'the last 80 lines');
  assert.is((await terminated('quiet')).message, undefined, 'File policy: the log is not used');
});

test.run();
