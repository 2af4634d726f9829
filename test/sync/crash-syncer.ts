// A Syncer in its own process, for the inventory crash test: syncs the repository into the data folder (journal
// compacted often, so kills land in snapshots too) and prints each state it enters, until it is killed.
// Usage: node --import tsx crash-syncer.ts <repo> <dataDir>
import { GitSource } from '../../src/source/git-source.ts';
import { openStore } from '../../src/store/lowdb-store.ts';
import { Syncer } from '../../src/sync/syncer.ts';

const [repo, dataDir] = process.argv.slice(2);
const store = await openStore(dataDir, { flushDelay: 1, journalMin: 0 });
const source = new GitSource({ repo, branch: 'main', path: '', dataDir, interval: 0 });
await source.prepare();
const syncer = new Syncer(source, store, { repository: repo, branch: 'main', path: '' });
syncer.onStatus((s) => process.stdout.write(`${s.state}\n`));
await syncer.start();
