// The plan report as `--output json`: the documented, stable format (docs/plan-json.md).
import type { PlanReport } from './report.ts';

/** Field order per part of the report, as in report.ts. Fields not listed (added later) follow in their own order. */
interface Shape { keys: string[]; fields?: Record<string, Shape> }

const use: Shape = { keys: ['allocatable', 'requestedBefore', 'requestedAfter'] };
const issue: Shape = { keys: ['severity', 'file', 'line', 'column', 'kind', 'name', 'field', 'message'] };
const REPORT: Shape = {
  keys: ['apiVersion', 'kind', 'ref', 'against', 'valid', 'schedulable', 'changed', 'errors', 'warnings', 'summary', 'changes', 'rollouts', 'scheduling', 'dataDeletions'],
  fields: {
    dataDeletions: { keys: ['kind', 'namespace', 'name', 'action', 'claims', 'reason', 'confirmedBy'] },
    ref: { keys: ['name', 'sha', 'message'] },
    against: { keys: ['source', 'name', 'sha'] },
    errors: issue,
    warnings: { keys: ['code', 'kind', 'namespace', 'name', 'file', 'line', 'column', 'field', 'message', 'preexisting'] },
    summary: { keys: ['create', 'update', 'prune', 'unchanged'] },
    changes: {
      keys: ['action', 'kind', 'namespace', 'name', 'file', 'line', 'diff', 'patch', 'images'],
      fields: { images: { keys: ['container', 'dir', 'from', 'to', 'files'], fields: { files: { keys: ['path', 'change'] } } } },
    },
    rollouts: {
      keys: ['kind', 'namespace', 'name', 'action', 'replicas', 'podsCreated', 'podsDeleted', 'strategy', 'maxSurge', 'maxUnavailable', 'reuses', 'summary'],
      fields: { replicas: { keys: ['before', 'after'] }, reuses: { keys: ['replicaSet', 'revision'] } },
    },
    scheduling: {
      keys: ['checked', 'reason', 'nodes', 'unschedulable', 'resources', 'stalls'],
      fields: {
        unschedulable: { keys: ['kind', 'namespace', 'name', 'pods', 'of', 'message'] },
        stalls: { keys: ['kind', 'namespace', 'name', 'message'] },
        resources: { keys: ['cpu', 'memory', 'pods'], fields: { cpu: use, memory: use, pods: use } },
      },
    },
  },
};

/** A copy with each object's fields in the documented order (a list applies the shape to each item). */
function ordered(value: unknown, shape: Shape): unknown {
  if (Array.isArray(value)) return value.map((v) => ordered(v, shape));
  if (!value || typeof value !== 'object') return value;
  const obj = value as Record<string, unknown>;
  const keys = [...shape.keys.filter((k) => k in obj), ...Object.keys(obj).filter((k) => !shape.keys.includes(k))];
  return Object.fromEntries(keys.map((k) => [k, shape.fields?.[k] ? ordered(obj[k], shape.fields[k]) : obj[k]]));
}

export function renderJson(r: PlanReport): string {
  return JSON.stringify(ordered(r, REPORT), null, 2) + '\n';
}
