// A process that hands 300 files to the parse workers, then aborts them or waits for them (argv[2]), and prints
// how many they loaded: incremental.test.ts checks it exits by itself, with no worker left running.
import { Preload } from '../../src/manifests/load-manifests.ts';

const end = process.argv[2];
const preload = new Preload({});
for (let i = 0; i < 300; i++) preload.add({ path: `c/${i}.yaml`, content: `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c${i}}\ndata: {v: "${i}"}\n` });
if (end === 'abort') preload.abort();
console.log(`${end}: ${await preload.finish()} loaded of 300`);
