// Label selectors: the structured form (matchLabels/matchExpressions) and the query-string form (`a=b,c in (x,y),!d`).

export type Labels = Record<string, string>;

export interface Requirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values: string[];
}

export interface LabelSelector {
  matchLabels?: Labels;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

export function requirementsOf(sel: LabelSelector): Requirement[] {
  const reqs: Requirement[] = Object.entries(sel.matchLabels ?? {}).map(([key, v]) => ({ key, operator: 'In', values: [v] }));
  for (const e of sel.matchExpressions ?? []) reqs.push({ key: e.key, operator: e.operator as Requirement['operator'], values: e.values ?? [] });
  return reqs;
}

/** Called for every watcher of every change and every pod a controller looks at: a plain loop, no closure or object made. */
export function matchesRequirements(reqs: readonly Requirement[], labels: Labels | undefined): boolean {
  for (let i = 0; i < reqs.length; i++) {
    const r = reqs[i];
    const has = labels !== undefined && Object.prototype.hasOwnProperty.call(labels, r.key);
    let ok: boolean;
    switch (r.operator) {
      case 'In': ok = has && r.values.includes(labels![r.key]); break;
      case 'NotIn': ok = !has || !r.values.includes(labels![r.key]); break;
      case 'Exists': ok = has; break;
      case 'DoesNotExist': ok = !has; break;
      default: ok = false;
    }
    if (!ok) return false;
  }
  return true;
}

/** A structured selector; an empty selector matches everything, as in Kubernetes list calls. */
export const matchesSelector = (sel: LabelSelector, labels: Labels | undefined) => matchesRequirements(requirementsOf(sel), labels);

/** Parses the `labelSelector` query parameter. Throws with a readable message on bad syntax. */
export function parseSelector(text: string): Requirement[] {
  const reqs: Requirement[] = [];
  // Split on commas that are not inside parentheses.
  const parts: string[] = [];
  let depth = 0, cur = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) { parts.push(cur); cur = ''; } else cur += ch;
  }
  if (cur.trim()) parts.push(cur);
  for (const raw of parts) {
    const p = raw.trim();
    let m: RegExpMatchArray | null;
    if ((m = p.match(/^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/))) {
      reqs.push({ key: m[1], operator: m[2] === 'in' ? 'In' : 'NotIn', values: m[3].split(',').map((v) => v.trim()).filter(Boolean) });
    } else if ((m = p.match(/^([\w./-]+)\s*(==|=|!=)\s*([\w.-]*)$/))) {
      reqs.push({ key: m[1], operator: m[2] === '!=' ? 'NotIn' : 'In', values: [m[3]] });
    } else if ((m = p.match(/^!([\w./-]+)$/))) {
      reqs.push({ key: m[1], operator: 'DoesNotExist', values: [] });
    } else if ((m = p.match(/^([\w./-]+)$/))) {
      reqs.push({ key: m[1], operator: 'Exists', values: [] });
    } else {
      throw new Error(`unable to parse requirement: "${p}"`);
    }
  }
  return reqs;
}
