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

export function matchesRequirements(reqs: Requirement[], labels: Labels | undefined): boolean {
  const l = labels ?? {};
  return reqs.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    switch (r.operator) {
      case 'In': return has && r.values.includes(l[r.key]);
      case 'NotIn': return !has || !r.values.includes(l[r.key]);
      case 'Exists': return has;
      case 'DoesNotExist': return !has;
    }
  });
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
