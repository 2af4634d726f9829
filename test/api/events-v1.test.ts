// events.k8s.io/v1 serves the same stored Events under that group's field names, selected by the core fields as
// kube-apiserver's one storage does, and printed with printEvent's columns.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { listView, viewOf } from '../../src/api/views.ts';
import { parseFieldSelector } from '../../src/api/field-selector.ts';
import { toTable } from '../../src/api/tables.ts';
import { kindByResource } from '../../src/model/kinds.ts';
import { cleanup, freshStore } from '../store/helpers.ts';

test.after.each(cleanup);

test('an Event at events.k8s.io/v1: regarding, note, deprecated source and counters; selected by involvedObject; same table', async () => {
  const { store } = await freshStore();
  await store.recordEvent({ apiVersion: 'v1', kind: 'Pod', namespace: 'default', name: 'web-1', uid: 'u1' }, 'Warning', 'BackOff', 'Back-off restarting');
  await store.recordEvent({ apiVersion: 'v1', kind: 'Pod', namespace: 'default', name: 'web-1', uid: 'u1' }, 'Warning', 'BackOff', 'Back-off restarting');
  await store.recordEvent({ apiVersion: 'v1', kind: 'Pod', namespace: 'default', name: 'db-0', uid: 'u2' }, 'Normal', 'Started', 'Started container');
  const info = kindByResource('events.k8s.io', 'events')!;
  const fields = parseFieldSelector('Event', 'involvedObject.name=web-1');
  const { items } = await listView(store, viewOf(info, 'v1'), { namespace: 'default', fields });
  assert.is(items.length, 1);
  const [ev] = items as any[];
  assert.is(ev.apiVersion, 'events.k8s.io/v1');
  assert.equal(ev.regarding, { apiVersion: 'v1', kind: 'Pod', namespace: 'default', name: 'web-1', uid: 'u1' });
  assert.equal([ev.note, ev.reason, ev.type, ev.deprecatedCount, ev.eventTime], ['Back-off restarting', 'BackOff', 'Warning', 2, null]);
  assert.equal(ev.deprecatedSource, { component: 'convergit' });
  assert.ok(ev.deprecatedLastTimestamp && ev.involvedObject === undefined && ev.message === undefined);
  const core = await listView(store, viewOf(kindByResource('', 'events')!, 'v1'), { namespace: 'default', fields });
  const cells = (t: ReturnType<typeof toTable>) => t.rows.map((r) => r.cells.slice(1, 5));
  assert.equal(cells(toTable('Event', items, '1')), cells(toTable('Event', core.items, '1')));
  assert.equal(cells(toTable('Event', items, '1')), [['Warning', 'BackOff', 'pod/web-1', '']]);
});

test.run();
