// `convergit drain <node>` and `convergit uncordon <node>`, through the data folder as `suspend` is (the API is
// read-only): the command leaves a request in <data>/drain/, the running serve carries it out and writes what it
// does, line by line, in kubectl drain's words, to a log the command prints as it grows. Draining cordons the node,
// then evicts its pods honouring PodDisruptionBudgets (a refused eviction is retried every 5 s, as kubectl does),
// ignoring DaemonSet pods (--ignore-daemonsets) and refusing pods no controller would recreate unless --force.
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Store } from '../store/store.ts';
import type { KubeObject } from '../model/object.ts';
import { controllerOf, isPodTerminal } from '../model/pod.ts';
import { evictPod } from '../controllers/disruption-eviction.ts';
import { isDataDirLocked } from './data-dir-lock.ts';

interface NodeRequest { id: string; node: string; action: 'drain' | 'uncordon'; force?: boolean; timeoutMs?: number }

const drainDir = (dataDir: string) => path.join(path.resolve(dataDir), 'drain');
const logFile = (dataDir: string, r: { node: string; id: string }) => path.join(drainDir(dataDir), `${r.node}-${r.id}.log`);
const DONE = /^(node\/\S+ (drained|uncordoned|already uncordoned)|error: .*)$/;

export interface DrainOptions { dataDir: string; force?: boolean; timeout?: number; retryMs?: number }

/** The command's side: leaves the request, prints the serve's lines until the last one; exit 0 when done. */
export async function requestNode(node: string, action: NodeRequest['action'], o: DrainOptions): Promise<number> {
  if (!isDataDirLocked(o.dataDir)) {
    console.error(`convergit ${action}: no serve is running on ${path.resolve(o.dataDir)}; ${action} works through a running serve`);
    return 1;
  }
  const r: NodeRequest = { id: randomBytes(4).toString('hex'), node, action, force: o.force, timeoutMs: o.timeout };
  mkdirSync(drainDir(o.dataDir), { recursive: true });
  writeFileSync(path.join(drainDir(o.dataDir), `${r.node}-${r.id}.request.json`), JSON.stringify(r));
  let printed = 0;
  for (;;) {
    const lines = existsSync(logFile(o.dataDir, r)) ? readFileSync(logFile(o.dataDir, r), 'utf8').split('\n').filter(Boolean) : [];
    for (const line of lines.slice(printed)) (line.startsWith('error') ? console.error : console.log)(line);
    printed = lines.length;
    const last = lines.at(-1);
    if (last && DONE.test(last)) {
      rmSync(logFile(o.dataDir, r), { force: true });
      return last.startsWith('error') ? 1 : 0;
    }
    if (!isDataDirLocked(o.dataDir)) {
      console.error(`convergit ${action}: serve stopped before it finished`);
      return 1;
    }
    await new Promise((res) => setTimeout(res, 200));
  }
}

/** The serve's side: carries out each request left in the folder, checked every `everyMs`. Returns a stop function. */
export function followNodeRequests(dataDir: string, store: Store, log: (m: string) => void, everyMs = 500, retryMs = 5000): () => void {
  let stopped = false;
  const running = new Set<string>();
  const check = () => {
    let files: string[];
    try { files = readdirSync(drainDir(dataDir)).filter((f) => f.endsWith('.request.json')); } catch { return; }
    for (const f of files) {
      const file = path.join(drainDir(dataDir), f);
      let r: NodeRequest;
      try { r = JSON.parse(readFileSync(file, 'utf8')); } catch { continue; }
      rmSync(file, { force: true });
      if (running.has(r.node)) { appendFileSync(logFile(dataDir, r), `error: node/${r.node} is being drained or uncordoned already\n`); continue; }
      running.add(r.node);
      const out = (line: string) => { appendFileSync(logFile(dataDir, r), line + '\n'); log(`${r.action}: ${line}`); };
      const work = r.action === 'uncordon' ? uncordon(store, r.node, out) : drain(store, r, out, retryMs, () => stopped);
      void work.catch((e) => out(`error: ${e instanceof Error ? e.message : String(e)}`)).finally(() => running.delete(r.node));
    }
  };
  const timer = setInterval(check, everyMs);
  timer.unref();
  return () => { stopped = true; clearInterval(timer); };
}

async function setUnschedulable(store: Store, name: string, value: boolean): Promise<'changed' | 'already' | 'missing'> {
  for (let attempt = 0; ; attempt++) {
    const node = await store.get('Node', undefined, name);
    if (!node) return 'missing';
    if (Boolean(node.spec?.unschedulable) === value) return 'already';
    try {
      await store.update({ ...node, spec: { ...node.spec, unschedulable: value || undefined } });
      return 'changed';
    } catch (e) {
      if (attempt > 5) throw e; // another writer (a heartbeat, the lifecycle controller) got there first: read again
    }
  }
}

async function uncordon(store: Store, node: string, out: (l: string) => void): Promise<void> {
  const r = await setUnschedulable(store, node, false);
  if (r === 'missing') return out(`error: nodes "${node}" not found`);
  out(r === 'already' ? `node/${node} already uncordoned` : `node/${node} uncordoned`);
}

const nameOf = (p: KubeObject) => `${p.metadata.namespace}/${p.metadata.name}`;

async function drain(store: Store, r: NodeRequest, out: (l: string) => void, retryMs: number, stopped: () => boolean): Promise<void> {
  const deadline = r.timeoutMs ? Date.now() + r.timeoutMs : Infinity;
  const c = await setUnschedulable(store, r.node, true);
  if (c === 'missing') return out(`error: nodes "${r.node}" not found`);
  out(c === 'already' ? `node/${r.node} already cordoned` : `node/${r.node} cordoned`);
  const onNode = (await store.list('Pod')).filter((p) => p.spec?.nodeName === r.node && !isPodTerminal(p));
  const daemons = onNode.filter((p) => controllerOf(p)?.kind === 'DaemonSet');
  const bare = onNode.filter((p) => !controllerOf(p));
  if (bare.length && !r.force) return out(`error: cannot delete Pods that declare no controller (use --force to override): ${bare.map(nameOf).join(', ')}`);
  if (daemons.length) out(`Warning: ignoring DaemonSet-managed Pods: ${daemons.map(nameOf).join(', ')}`);
  if (bare.length) out(`Warning: deleting Pods that declare no controller: ${bare.map(nameOf).join(', ')}`);
  const victims = onNode.filter((p) => !daemons.includes(p));
  const results = await Promise.all(victims.map(async (p) => {
    const { namespace = 'default', name } = p.metadata;
    for (;;) {
      if (stopped()) return `error: serve stopped while evicting pod ${namespace}/${name}`;
      if (Date.now() > deadline) return `error: drain did not complete within ${Math.round(r.timeoutMs! / 1000)}s`;
      out(`evicting pod ${namespace}/${name}`);
      const e = await evictPod(store, namespace, name, new Date());
      if (e.evicted) break;
      out(`error when evicting pods/"${name}" -n "${namespace}" (will retry after ${retryMs / 1000}s): ${e.message}`);
      await new Promise((res) => setTimeout(res, retryMs));
    }
    // Evicted once it is gone (its node stops it within its grace period).
    while ((await store.get('Pod', namespace, name))?.metadata.uid === p.metadata.uid) {
      if (stopped() || Date.now() > deadline) return `error: pod ${namespace}/${name} was evicted but has not gone yet`;
      await new Promise((res) => setTimeout(res, 200));
    }
    out(`pod/${name} evicted`);
    return undefined;
  }));
  const failed = results.find(Boolean);
  out(failed ?? `node/${r.node} drained`);
}
