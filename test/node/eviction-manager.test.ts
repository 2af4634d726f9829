// The eviction manager's judgement of one pod: the first emptyDir whose measured usage exceeds its sizeLimit.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { emptyDirLimitMessage } from '../../src/node/eviction-manager.ts';
import type { KubeObject } from '../../src/model/object.ts';

const pod = (volumes: unknown[]): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { volumes, containers: [] } });

test('exceeding, not reaching, the limit evicts; volumes without a limit or a measure never do', () => {
  const p = pod([{ name: 'free', emptyDir: {} }, { name: 'cache', emptyDir: { sizeLimit: '1Mi' } }, { name: 'mem', emptyDir: { medium: 'Memory', sizeLimit: '64Ki' } }]);
  assert.is(emptyDirLimitMessage(p, new Map([['free', 10 ** 9], ['cache', 2 ** 20], ['mem', 65536]])), undefined, 'at the limit');
  assert.is(emptyDirLimitMessage(p, new Map([['cache', 2 ** 20 + 1]])), 'Usage of EmptyDir volume "cache" exceeds the limit "1Mi". ');
  assert.is(emptyDirLimitMessage(p, new Map([['mem', 65537]])), 'Usage of EmptyDir volume "mem" exceeds the limit "64Ki". ');
  assert.is(emptyDirLimitMessage(pod([{ name: 'zero', emptyDir: { sizeLimit: '0' } }]), new Map([['zero', 5]])), undefined, 'a zero limit is no limit (upstream: Sign() == 1)');
});

test.run();
