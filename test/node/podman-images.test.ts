// Image pulls on the podman runtime against a real registry started here: pull policies, tags and digests, the
// image's ENTRYPOINT/CMD/WorkingDir and USER, a missing image, and a private registry with and without credentials.
import { test } from 'uvu';
import { execFileSync } from 'node:child_process';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PodmanRuntime } from '../../src/node/runtime/podman/podman.ts';
import { ImagePullError, type ContainerSecurity, type PullOptions } from '../../src/node/runtime/runtime.ts';
import { presentLog } from '../../src/node/logs.ts';
import { podmanMissing } from '../support/podman.ts';
import { pushBusyboxImage, registryMissing, removeImages, startRegistry, type Registry } from '../support/registry.ts';

const missing = podmanMissing() ?? registryMissing();
if (missing) {
  console.log(`podman-images: skipped, ${missing}`);
} else {
  let open: Registry, priv: Registry, runtime: PodmanRuntime, stateDir: string;
  const creds = { user: 'ci', password: 's3cret' };
  let digest = '';
  let oldId = '';

  test.before(async () => {
    [open, priv] = await Promise.all([startRegistry(), startRegistry(creds)]);
    stateDir = await mkdtemp(join(tmpdir(), 'convergit-podman-images-'));
    runtime = await PodmanRuntime.create({ stateDir });
    digest = pushBusyboxImage(`${open.host}/shell:1`, { entrypoint: ['sh', '-c'], cmd: ['echo from cmd'], workdir: '/data' });
    pushBusyboxImage(`${priv.host}/secret:1`, { cmd: ['true'] }, creds);
  });
  test.after(async () => {
    await runtime?.close();
    for (const r of [open, priv]) if (r) removeImages(r.host);
    // The image the tag moved away from has no name left to remove it by.
    if (oldId) execFileSync('podman', ['rmi', '-f', oldId], { stdio: 'ignore' });
    await Promise.all([open?.stop(), priv?.stop()]);
    await rm(stateDir, { recursive: true, force: true });
  });

  const pullError = async (image: string, opts: PullOptions) => {
    try {
      await runtime.pullImage(image, opts);
    } catch (e) {
      assert.instance(e, ImagePullError);
      return e as ImagePullError;
    }
    throw new Error(`pulling ${image} succeeded`);
  };

  test('a tag is pulled with its ENTRYPOINT, CMD and WorkingDir, and reported by its registry digest', async () => {
    const info = await runtime.pullImage(`${open.host}/shell:1`, { policy: 'IfNotPresent' });
    assert.equal([info.entrypoint, info.cmd, info.workingDir], [['sh', '-c'], ['echo from cmd'], '/data']);
    assert.match(digest, /^sha256:[0-9a-f]{64}$/);
    assert.is(info.imageID, `${open.host}/shell@${digest}`);
  });

  test('a digest is pulled as it is named, and is the same image', async () => {
    const byTag = await runtime.pullImage(`${open.host}/shell:1`, { policy: 'IfNotPresent' });
    const byDigest = await runtime.pullImage(`${open.host}/shell@${digest}`, { policy: 'IfNotPresent' });
    assert.is(byDigest.id, byTag.id);
  });

  test('Never uses a present image and refuses an absent one', async () => {
    assert.ok((await runtime.pullImage(`${open.host}/shell:1`, { policy: 'Never' })).id);
    const e = await pullError(`${open.host}/shell:absent`, { policy: 'Never' });
    assert.is(e.reason, 'ErrImageNeverPull');
    assert.is(e.message, `Container image "${open.host}/shell:absent" is not present with pull policy of Never`);
  });

  test('Always pulls again: a tag moved to a new image is seen, IfNotPresent keeps the old one', async () => {
    const old = await runtime.pullImage(`${open.host}/shell:1`, { policy: 'IfNotPresent' });
    oldId = old.id;
    pushBusyboxImage(`${open.host}/shell:1`, { entrypoint: ['sh', '-c'], cmd: ['echo version two'] });
    assert.is((await runtime.pullImage(`${open.host}/shell:1`, { policy: 'IfNotPresent' })).id, old.id);
    const fresh = await runtime.pullImage(`${open.host}/shell:1`, { policy: 'Always' });
    assert.is.not(fresh.id, old.id);
    assert.equal(fresh.cmd, ['echo version two']);
  });

  test('an image the registry does not have fails with ErrImagePull and the registry\'s message', async () => {
    const e = await pullError(`${open.host}/nope:1`, { policy: 'IfNotPresent' });
    assert.is(e.reason, 'ErrImagePull');
    assert.match(e.message, `Failed to pull image "${open.host}/nope:1": `);
    assert.match(e.message, /manifest unknown/);
  });

  test('a private image needs credentials: refused without them, pulled with them', async () => {
    const e = await pullError(`${priv.host}/secret:1`, { policy: 'IfNotPresent' });
    assert.is(e.reason, 'ErrImagePull');
    assert.match(e.message, /unauthorized|authentication required/);
    const wrong = await pullError(`${priv.host}/secret:1`, { policy: 'IfNotPresent', auth: { auths: { [priv.host]: { username: 'ci', password: 'wrong' } } } });
    assert.match(wrong.message, /unauthorized|authentication required/);
    const auth = Buffer.from(`${creds.user}:${creds.password}`).toString('base64');
    const info = await runtime.pullImage(`${priv.host}/secret:1`, { policy: 'IfNotPresent', auth: { auths: { [priv.host]: { auth } } } });
    assert.equal(info.cmd, ['true']);
  });

  test('runAsGroup alone keeps the image\'s USER (by name, its group part left out), as the kubelet does', async () => {
    pushBusyboxImage(`${open.host}/nobody:1`, { user: 'nobody:nogroup' });
    const info = await runtime.pullImage(`${open.host}/nobody:1`, { policy: 'IfNotPresent' });
    const ids = async (n: number, security: ContainerSecurity) => {
      const logFile = join(stateDir, `ids-${n}.log`);
      const exit = await (await runtime.start({ id: `default/ids/c${n}`, image: info.id, argv: ['sh', '-c', 'echo $(id -u):$(id -g)'], env: {}, cwd: '/', logFile, security })).exited;
      assert.is(exit.reason, 'Completed');
      return presentLog(await readFile(logFile, 'utf8'), {}).trim();
    };
    assert.is(await ids(1, {}), '65534:65534', 'the image\'s own user and group');
    assert.is(await ids(2, { runAsGroup: 4321 }), '65534:4321', 'not root');
    assert.is(await ids(3, { runAsUser: 1234, runAsGroup: 4321 }), '1234:4321');
  });

  test('a reference no registry accepts fails at once', async () => {
    const e = await pullError('Not/Valid:Name!', { policy: 'IfNotPresent' });
    assert.is(e.reason, 'ErrImagePull');
    assert.match(e.message, 'invalid reference format');
  });

  test.run();
}
