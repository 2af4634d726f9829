// Kubernetes' rules for a container run from an image: command/args over ENTRYPOINT/CMD, workingDir, pull
// policy defaults, pull secrets, resources and securityContext; and image references as Docker reads them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { containerResources, containerSecurity, hostPorts, imageArgv, imageCwd, pullAuth, pullPolicy } from '../../src/node/container-image.ts';
import { ConfigError } from '../../src/node/env.ts';
import { fullImageRef } from '../../src/node/runtime/podman/image-ref.ts';
import type { KubeObject } from '../../src/model/object.ts';

const image = { entrypoint: ['/docker-entrypoint.sh'], cmd: ['nginx', '-g', 'daemon off;'], workingDir: '/srv' };

test('neither command nor args: the image\'s ENTRYPOINT then CMD', () => {
  assert.equal(imageArgv({ name: 'c' }, image, {}), ['/docker-entrypoint.sh', 'nginx', '-g', 'daemon off;']);
});

test('command replaces ENTRYPOINT and drops CMD; args follow command', () => {
  assert.equal(imageArgv({ name: 'c', command: ['sh'] }, image, {}), ['sh']);
  assert.equal(imageArgv({ name: 'c', command: ['sh'], args: ['-c', 'echo $(X)'] }, image, { X: 'x' }), ['sh', '-c', 'echo x']);
});

test('args alone replace CMD and keep ENTRYPOINT; $(VAR) is expanded in args, never in the image\'s words', () => {
  assert.equal(imageArgv({ name: 'c', args: ['$(MODE)'] }, image, { MODE: 'debug' }), ['/docker-entrypoint.sh', 'debug']);
  assert.equal(imageArgv({ name: 'c' }, { entrypoint: ['echo', '$(MODE)'], cmd: [] }, { MODE: 'debug' }), ['echo', '$(MODE)']);
});

test('nothing to run at all is a config error naming the container', () => {
  assert.throws(() => imageArgv({ name: 'app' }, { entrypoint: [], cmd: [] }, {}), (e: Error) => e instanceof ConfigError && /container "app": no command specified/.test(e.message));
});

test('workingDir, else the image\'s, else /', () => {
  assert.is(imageCwd('/work', image), '/work');
  assert.is(imageCwd(undefined, image), '/srv');
  assert.is(imageCwd(undefined, { workingDir: '' }), '/');
});

test('pull policy: as given, else Always for :latest or no tag, IfNotPresent for other tags and digests', () => {
  assert.is(pullPolicy({ image: 'nginx', imagePullPolicy: 'Never' }), 'Never');
  assert.is(pullPolicy({ image: 'nginx' }), 'Always');
  assert.is(pullPolicy({ image: 'nginx:latest' }), 'Always');
  assert.is(pullPolicy({ image: 'nginx:1.27' }), 'IfNotPresent');
  assert.is(pullPolicy({ image: 'localhost:5000/app' }), 'Always');
  assert.is(pullPolicy({ image: `nginx@sha256:${'a'.repeat(64)}` }), 'IfNotPresent');
});

test('references: docker.io and library/ by default, :latest when untagged, registries with ports, digests kept', () => {
  assert.is(fullImageRef('nginx'), 'docker.io/library/nginx:latest');
  assert.is(fullImageRef('nginx:1.27'), 'docker.io/library/nginx:1.27');
  assert.is(fullImageRef('bitnami/redis:7'), 'docker.io/bitnami/redis:7');
  assert.is(fullImageRef('ghcr.io/org/app'), 'ghcr.io/org/app:latest');
  assert.is(fullImageRef('localhost:5000/app:v1'), 'localhost:5000/app:v1');
  assert.is(fullImageRef('localhost/app'), 'localhost/app:latest');
  assert.is(fullImageRef(`redis:7@sha256:${'b'.repeat(64)}`), `docker.io/library/redis@sha256:${'b'.repeat(64)}`);
  assert.throws(() => fullImageRef('Upper/Case'), /invalid reference format/);
});

const pod = (spec: any): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' }, spec });
const secret = (name: string, type: string, data: Record<string, string>): KubeObject =>
  ({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'default' }, type, data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])) });

test('pull secrets: dockerconfigjson merged, the first secret winning; missing and wrong ones reported, not fatal', () => {
  const a = secret('a', 'kubernetes.io/dockerconfigjson', { '.dockerconfigjson': JSON.stringify({ auths: { 'r.io': { auth: 'QQ==' } } }) });
  const b = secret('b', 'kubernetes.io/dockerconfigjson', { '.dockerconfigjson': JSON.stringify({ auths: { 'r.io': { auth: 'Qg==' }, 'q.io': { username: 'u', password: 'p' } } }) });
  const opaque = secret('o', 'Opaque', { x: 'y' });
  const r = pullAuth(pod({ imagePullSecrets: [{ name: 'a' }, { name: 'gone' }, { name: 'b' }, { name: 'o' }] }), new Map([['a', a], ['b', b], ['o', opaque]]));
  assert.equal(r.auth, { auths: { 'r.io': { auth: 'QQ==' }, 'q.io': { username: 'u', password: 'p' } } });
  assert.equal(r.problems, [
    'Unable to retrieve some image pull secrets (gone); attempting to pull the image may not succeed.',
    'image pull secret "o" is of type Opaque, not kubernetes.io/dockerconfigjson',
  ]);
  assert.equal(pullAuth(pod({}), new Map()), { problems: [] });
});

test('resources: memory limit in bytes, cpu limit and request in millicores, a limit alone is the request', () => {
  assert.equal(containerResources({ resources: { limits: { memory: '64Mi', cpu: '500m' } } }), { memoryLimitBytes: 64 * 1024 * 1024, cpuLimitMillis: 500, cpuRequestMillis: 500 });
  assert.equal(containerResources({ resources: { requests: { cpu: '0.25' } } }), { cpuRequestMillis: 250 });
  assert.equal(containerResources({}), {});
});

test('securityContext: the container\'s over the pod\'s', () => {
  const p = pod({ securityContext: { runAsUser: 1000, runAsGroup: 3000 } });
  assert.equal(containerSecurity(p, { securityContext: { runAsUser: 2000, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] }, allowPrivilegeEscalation: false } }),
    { runAsUser: 2000, runAsGroup: 3000, readOnlyRootFilesystem: true, capabilities: { add: undefined, drop: ['ALL'] }, allowPrivilegeEscalation: false });
});

test('host ports: only ports that ask for one, TCP by default', () => {
  assert.equal(hostPorts(pod({ containers: [{ ports: [{ containerPort: 80 }, { containerPort: 53, hostPort: 5353, protocol: 'UDP' }] }, { ports: [{ containerPort: 8080, hostPort: 18080 }] }] })),
    [{ containerPort: 53, hostPort: 5353, protocol: 'UDP' }, { containerPort: 8080, hostPort: 18080, protocol: 'TCP' }]);
});

test.run();
