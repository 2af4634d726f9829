// Which volume a claim binds to, as Kubernetes' PV controller decides: class, volumeMode, access modes, size,
// selector, pre-binding; the smallest fitting volume wins.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../src/model/object.ts';
import { claimClassName, findBestMatch, mismatch, volumeNodeAffinityMatches } from '../../src/model/volume-claims.ts';

const pv = (name: string, size: string, extra: Record<string, any> = {}, labels?: Record<string, string>): KubeObject => ({
  apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name, ...(labels && { labels }) },
  spec: { capacity: { storage: size }, accessModes: ['ReadWriteOnce'], storageClassName: 'manual', hostPath: { path: `/srv/${name}` }, ...extra },
  status: { phase: 'Available' },
});
const pvc = (size: string, extra: Record<string, any> = {}): KubeObject => ({
  apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data', namespace: 'default', uid: 'u1' },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: size } }, storageClassName: 'manual', ...extra },
});
const cls = (name: string, def: boolean, created: string): KubeObject => ({
  apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name, creationTimestamp: created, ...(def && { annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } }) },
});

test('the smallest Available volume that fits wins; too small, wrong class, mode or access modes never do', () => {
  const vols = [pv('big', '10Gi'), pv('small', '1Gi'), pv('tiny', '100Mi'), pv('other-class', '2Gi', { storageClassName: 'fast' }),
    pv('block', '2Gi', { volumeMode: 'Block' }), pv('rox', '2Gi', { accessModes: ['ReadOnlyMany'] })];
  assert.is(findBestMatch(pvc('500Mi'), vols, 'manual')?.metadata.name, 'small');
  assert.is(findBestMatch(pvc('5Gi'), vols, 'manual')?.metadata.name, 'big');
  assert.is(findBestMatch(pvc('20Gi'), vols, 'manual'), undefined);
  assert.is(findBestMatch(pvc('1Gi', { accessModes: ['ReadWriteOnce', 'ReadWriteMany'] }), vols, 'manual'), undefined);
  assert.is(mismatch(vols[3], pvc('1Gi'), 'manual'), 'class "fast" is not "manual"');
  assert.is(mismatch(vols[4], pvc('1Gi'), 'manual'), 'volumeMode Block is not Filesystem');
  assert.is(mismatch(vols[5], pvc('1Gi'), 'manual'), 'access modes lack ReadWriteOnce');
});

test('a selector narrows the choice to labelled volumes; a bound or released volume is never taken', () => {
  const vols = [pv('a', '1Gi', {}, { tier: 'gold' }), pv('b', '1Gi', {}, { tier: 'silver' }),
    pv('taken', '1Gi', { claimRef: { namespace: 'default', name: 'other', uid: 'u9' } }),
    { ...pv('released', '1Gi'), status: { phase: 'Released' } }];
  assert.is(findBestMatch(pvc('1Gi', { selector: { matchLabels: { tier: 'silver' } } }), vols, 'manual')?.metadata.name, 'b');
  assert.is(findBestMatch(pvc('1Gi', { selector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['bronze'] }] } }), vols, 'manual'), undefined);
  assert.is(findBestMatch(pvc('1Gi'), vols.slice(2), 'manual'), undefined);
});

test('a volume pre-bound to the claim (claimRef) is taken first; a claim naming volumeName takes only that volume', () => {
  const vols = [pv('any', '1Gi'), pv('mine', '5Gi', { claimRef: { namespace: 'default', name: 'data' } })];
  assert.is(findBestMatch(pvc('1Gi'), vols, 'manual')?.metadata.name, 'mine');
  assert.is(findBestMatch(pvc('1Gi', { volumeName: 'any' }), [pv('any', '1Gi'), pv('other', '1Gi')], 'manual')?.metadata.name, 'any');
});

test('a claim without storageClassName asks for the newest default class; "" asks for none', () => {
  const classes = [cls('old-default', true, '2024-01-01T00:00:00Z'), cls('local-path', true, '2025-01-01T00:00:00Z'), cls('fast', false, '2026-01-01T00:00:00Z')];
  assert.is(claimClassName(pvc('1Gi', { storageClassName: undefined }), classes), 'local-path');
  assert.is(claimClassName(pvc('1Gi', { storageClassName: '' }), classes), '');
  assert.is(claimClassName(pvc('1Gi', { storageClassName: 'fast' }), classes), 'fast');
  assert.is(claimClassName(pvc('1Gi', { storageClassName: undefined }), [classes[2]]), '');
});

test('a volume\'s required node affinity decides the nodes that may mount it', () => {
  const pinned = pv('p', '1Gi', { nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['n1'] }] }] } } });
  assert.ok(volumeNodeAffinityMatches(pinned, { 'kubernetes.io/hostname': 'n1' }));
  assert.not.ok(volumeNodeAffinityMatches(pinned, { 'kubernetes.io/hostname': 'n2' }));
  assert.ok(volumeNodeAffinityMatches(pv('free', '1Gi'), {}));
});

test.run();
