// What a ReplicaSet's sync needs of its pods, kept as they change: a sync of a 1,000-pod ReplicaSet looked at each of
// its pods (selector, template labels, Ready) to claim and count them, and a scale-up syncs it once for nearly every
// pod's change, so the work grew with the square of the pods. Kubernetes' controller lists and claims every pod per
// sync; the outcome here is the same (the same pods claimed, released and counted), computed from a tally kept per
// ReplicaSet uid and brought up to date by each pod's change (its old and new version).
import type { KubeObject } from '../model/object.ts';
import { getCondition } from '../model/conditions.ts';
import { controllerOf, isPodActive, isPodReady } from '../model/pod.ts';
import { matchesRequirements, type Requirement } from '../model/selector.ts';
import { keyOf } from '../model/key.ts';

/** One active pod of the ReplicaSet as its sync sees it. */
interface Facts {
  pod: KubeObject;
  matches: boolean;
  labeled: boolean;
  ready: boolean;
}

/** The counts of replicaSetStatus: pods claimed, fully labelled, ready and available, and when to look again. */
export interface PodCounts {
  replicas: number;
  fullyLabeled: number;
  ready: number;
  available: number;
  /** When some ready pod will have been ready for minReadySeconds, in ms from now. */
  nextAvailableInMs?: number;
}

/** A tally's pods, by key. */
interface Pods {
  claimed: Map<string, KubeObject>;
  unmatched: Map<string, KubeObject>;
  ready: Map<string, KubeObject>;
  facts: Map<string, Facts>;
}
const NONE: ReadonlyMap<string, KubeObject> = new Map();

/** A ReplicaSet's active pods that name it as controller: those its selector matches (claimed), and those it does not. */
export class Tally {
  fullyLabeled = 0;
  /**
   * Made for the first pod: most ReplicaSets have none (a Deployment's old ones, scaled to 0), and four empty Maps
   * were ~1.4 KB a ReplicaSet (4.9 MB of a serve with 3,333 of them).
   */
  private pods?: Pods;

  constructor(readonly uid: string, readonly namespace: string, readonly signature: string,
    private readonly reqs: Requirement[], private readonly templateLabels: [string, string][]) {}

  get claimed(): ReadonlyMap<string, KubeObject> { return this.pods?.claimed ?? NONE; }
  get unmatched(): ReadonlyMap<string, KubeObject> { return this.pods?.unmatched ?? NONE; }
  /** The claimed pods that are Ready. */
  get ready(): ReadonlyMap<string, KubeObject> { return this.pods?.ready ?? NONE; }

  /** Takes the pod's contribution out (if it had one), then puts its new version's in (if it is one of ours). */
  set(key: string, pod: KubeObject | undefined): void {
    const was = this.pods?.facts.get(key);
    if (was) {
      const p = this.pods!;
      p.facts.delete(key);
      if (was.matches) {
        p.claimed.delete(key);
        if (was.labeled) this.fullyLabeled--;
        if (was.ready) p.ready.delete(key);
      } else p.unmatched.delete(key);
    }
    if (!pod || controllerOf(pod)?.uid !== this.uid || !isPodActive(pod) || (pod.metadata.namespace ?? 'default') !== this.namespace) return;
    const f = this.factsOf(pod);
    const p = (this.pods ??= { claimed: new Map(), unmatched: new Map(), ready: new Map(), facts: new Map() });
    p.facts.set(key, f);
    if (!f.matches) return void p.unmatched.set(key, pod);
    p.claimed.set(key, pod);
    if (f.labeled) this.fullyLabeled++;
    if (f.ready) p.ready.set(key, pod);
  }

  factsOf(pod: KubeObject): Facts {
    const labels = pod.metadata.labels ?? {};
    let labeled = true;
    for (const [k, v] of this.templateLabels) if (labels[k] !== v) { labeled = false; break; }
    return { pod, matches: matchesRequirements(this.reqs, pod.metadata.labels), labeled, ready: isPodReady(pod) };
  }

  /** The counts for the claimed pods plus `extra` (pods adopted in this sync and not tallied yet). */
  counts(minReadySeconds: number, now: Date, extra: readonly KubeObject[] = []): PodCounts {
    const more = extra.map((p) => this.factsOf(p));
    const moreReady = more.filter((f) => f.ready).map((f) => f.pod);
    const out: PodCounts = {
      replicas: this.claimed.size + more.length,
      fullyLabeled: this.fullyLabeled + more.filter((f) => f.labeled).length,
      ready: this.ready.size + moreReady.length,
      available: 0,
    };
    if (minReadySeconds <= 0) return { ...out, available: out.ready };
    // Available only after minReadySeconds of Ready: a look at each ready pod's Ready time (the clock moves).
    const minReadyMs = minReadySeconds * 1000;
    for (const pod of [...this.ready.values(), ...moreReady]) {
      const since = Date.parse(getCondition(pod.status?.conditions, 'Ready')?.lastTransitionTime ?? '');
      if (Number.isNaN(since)) continue; // ready since an unknown time: never counted, as in Kubernetes
      const wait = since + minReadyMs - now.getTime();
      if (wait < 0) out.available++;
      else out.nextAvailableInMs = Math.min(out.nextAvailableInMs ?? Infinity, wait + 1); // available once strictly past the mark
    }
    return out;
  }
}

/** The tallies of every ReplicaSet of one controller, by uid. */
export class ReplicaSetPods {
  private readonly tallies = new Map<string, Tally>();

  /** `owned(uid)`: the pods whose controller reference names uid, from the informer's index (current when asked). */
  constructor(private readonly owned: (uid: string) => KubeObject[]) {}

  /**
   * The tally of `rs`: kept since it was first asked for, or built again from the index when its selector or
   * template labels changed (what each pod's facts depend on).
   */
  of(rs: KubeObject, reqs: Requirement[]): Tally {
    const uid = rs.metadata.uid!;
    const templateLabels = Object.entries((rs.spec?.template?.metadata?.labels ?? {}) as Record<string, string>);
    const signature = JSON.stringify([reqs, templateLabels]);
    let tally = this.tallies.get(uid);
    if (tally?.signature === signature) return tally;
    tally = new Tally(uid, rs.metadata.namespace ?? 'default', signature, reqs, templateLabels);
    for (const pod of this.owned(uid)) tally.set(keyOf(pod), pod);
    this.tallies.set(uid, tally);
    return tally;
  }

  /** A pod was added, changed or deleted (`pod` undefined): the tallies of its old and new controllers follow. */
  changed(old: KubeObject | undefined, pod: KubeObject | undefined): void {
    const key = keyOf((pod ?? old)!);
    const uids = new Set([old && controllerOf(old)?.uid, pod && controllerOf(pod)?.uid]);
    for (const uid of uids) if (uid) this.tallies.get(uid)?.set(key, pod);
  }

  /** The ReplicaSet is gone. */
  forget(uid: string | undefined): void {
    if (uid) this.tallies.delete(uid);
  }
}
