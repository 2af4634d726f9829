// What the 405 says: every write is a commit instead; for the streaming subresources (exec, attach, port-forward,
// and cp, which runs tar through exec) there is no write to commit, so it says what to do instead.

/** Pod subresources that stream into or out of a container. */
export const STREAMING_SUBRESOURCES = new Set(['exec', 'attach', 'portforward', 'proxy']);

export function refusal(pathname: string, method: string, where: { repository: string; branch: string }): string {
  const sub = /\/pods\/[^/]+\/(exec|attach|portforward|proxy)\/?$/.exec(pathname)?.[1]
    ?? /\/services\/[^/]+\/(proxy)\/?$/.exec(pathname)?.[1];
  if (sub === 'exec' || sub === 'attach') {
    const what = sub === 'exec' ? 'exec into containers (kubectl exec, and kubectl cp, which uses exec)' : 'attach to containers (kubectl attach)';
    return `convergit does not ${what}: read what a container prints with `
      + '`kubectl logs <pod>` (-f to follow, --previous for the run before); to change what runs, commit the change to '
      + `${where.repository} (branch ${where.branch}).`;
  }
  if (sub === 'portforward' || sub === 'proxy') {
    return `convergit does not ${sub === 'proxy' ? 'proxy' : 'forward ports'} through the API: expose the pod with a Service of type NodePort `
      + `or LoadBalancer committed to ${where.repository} (branch ${where.branch}), then open the node port it gets (kubectl get svc).`;
  }
  return `convergit is read-only: ${method} is not allowed. Change the system by committing to ${where.repository} (branch ${where.branch}); roll back with git revert.`;
}

/** `kubectl cordon|uncordon|drain`: a node's schedulability is not in git, so say how to get the same effect. */
export function nodeCommandRefusal(command: string, where: { repository: string; branch: string }): string {
  return `convergit is read-only: kubectl ${command} would change a Node, which is not in git. To keep pods off a node, `
    + `commit a nodeSelector or node affinity to ${where.repository} (branch ${where.branch}); to take a node away, restart serve with fewer --nodes.`;
}
