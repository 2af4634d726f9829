// Run by exit.test.ts in a child process: watch until the parent's commit is seen, stop, and let the process end.
import { GitSource } from '../../src/source/git-source.ts';

const [repo, dataDir] = process.argv.slice(2);
const source = new GitSource({ repo, branch: 'main', path: '', dataDir, interval: 20, pollInterval: 20 });
await source.prepare();
const first = await source.head();
let seen: (sha: string) => void;
const changed = new Promise<string>((resolve) => (seen = resolve));
const stop = source.watch(() => void source.head().then((h) => h !== first && seen(h), () => {}));
process.stdout.write('watching\n');
process.stdout.write(`saw ${await changed}\n`);
await stop();
process.stdout.write('stopped\n');
