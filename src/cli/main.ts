// The composition root: parses the command line and wires the parts together. Nothing imports this file.
// The heavier commands are imported when run, so that `convergit stop` or `validate` does not load the engine.
import { Command, InvalidArgumentError, Option } from 'commander';
import { bytes, cidr, count, defaultNodeName, raisingNice, cpuShares, duration, durationOrZero, labels, nodeName, perNode, port, quantity, registryMirror, repoPath, taints } from './options.ts';
import { podsShares } from '../node/runtime/pods-cgroup.ts';
import { VERSION } from './version.ts';
import { saveCodeCacheAtExit } from './code-cache.ts';
import { DEFAULT_MAX_MANIFEST_FILES } from '../source/manifest-limit.ts';
import { resume, suspend } from './suspend.ts';
import { history } from './history.ts';
import { kubeconfig } from './kubeconfig.ts';
import { dropOutputWhenReaderGoes } from './closed-output.ts';

dropOutputWhenReaderGoes();

/** --container-log-max-files: the kubelet refuses fewer than 2 (the current file and one rotated). */
const logFiles = (v: string) => {
  const n = count(v);
  if (n < 2) throw new InvalidArgumentError(`"${v}" is fewer than 2 (the current file and one rotated).`);
  return n;
};

/** A whole percent, 0 to 100. */
const percent = (v: string) => {
  const n = count(v);
  if (n > 100) throw new InvalidArgumentError(`"${v}" is not a percent (0-100).`);
  return n;
};

/** kubectl's flags for the credentials of --server (cli/server-connection.ts), shared by plan and history. */
const withServerCredentials = (c: Command) => c
  .option('--token <token>', 'bearer token for --server (default: $CONVERGIT_TOKEN, else the kubeconfig\'s user for that server)')
  .option('--kubeconfig <file>', 'kubeconfig to read the server, CA and token from (default: $KUBECONFIG, else ~/.kube/config; convergit kubeconfig prints one)')
  .option('--context <name>', 'the kubeconfig context to use (default: its current context)')
  .option('--certificate-authority <file>', 'CA certificate to verify an https server with (e.g. <data-dir>/apiserver.crt)')
  .option('--insecure-skip-tls-verify', 'do not verify the server\'s certificate (its token is sent all the same)');

const program = new Command('convergit')
  .description('GitOps-native orchestrator: commit Kubernetes YAML to deploy; inspect over read-only HTTP.')
  .version(VERSION)
  .showHelpAfterError();

program
  .command('serve')
  .description('watch a repository and converge to each valid commit; serve the read-only API and status page')
  .option('--repo <path|url>', 'repository to watch: a local path (working tree or bare) or an http(s) URL')
  .option('--branch <name>', 'branch to follow', 'main')
  .option('--path <dir>', 'folder inside the repository holding the manifests (default: the whole repository)', repoPath, '')
  .option('--data-dir <dir>', 'where state, clones and the example repository are kept', '.convergit')
  .option('--host <address>', 'address the HTTP API listens on', '127.0.0.1')
  .option('--port <n>', 'port the HTTP API listens on (0: any free port)', port, 7480)
  .option('--token-file <file>', 'the API\'s bearer token, required beyond loopback and for Secret values (default: $CONVERGIT_API_TOKEN, else <data-dir>/token, generated once; convergit kubeconfig includes it)')
  .option('--interval <duration>', 'how often a remote repository is fetched', duration, 30_000)
  .option('--strict', 'treat Kubernetes fields that convergit does not implement as errors', false)
  .option('--allow-host-path <prefix>', 'a host folder hostPath volumes may mount (repeatable; default: none)', (v: string, prev: string[] = []) => [...prev, v])
  .option('--max-manifest-files <n>', 'most manifest files (*.yaml, *.yml, Kustomization) a revision may have; more: refused before any is read', count, DEFAULT_MAX_MANIFEST_FILES)
  .option('--example', 'serve the bundled examples-repo, copied into a git repository under --data-dir', false)
  .addOption(new Option('--retry-base <duration>', 'first wait before retrying a failed sync (doubles up to 5m)').argParser(duration).default(2000, '2s'))
  .option('--nodes <n>', 'local nodes to run pods on (0: none, pods stay Pending)', count, 1)
  .option('--node-name <name>', 'name of the local node (with --nodes N: <name>-1 … <name>-N)', nodeName, defaultNodeName())
  .option('--node-cpu <cores>', 'cpu each node offers to pods, like 2 or 1500m (default: the machine\'s cores)', quantity)
  .option('--node-memory <bytes>', 'memory each node offers to pods, like 4Gi (default: the machine\'s memory)', quantity)
  .option('--node-pods <n>', 'pods each node may run', count)
  .option('--node-labels <k=v,...>', 'labels of the nodes, for nodeSelector', labels, {})
  .option('--node-taints <k=v:Effect,...>', 'taints of the nodes (NoSchedule, PreferNoSchedule, NoExecute), as kubelet --register-with-taints', taints, [])
  .option('--label-node <node:k=v,...>', 'labels of one node, e.g. box-1:topology.kubernetes.io/zone=a (repeatable)', perNode(labels), {})
  .addOption(new Option('--node-monitor-grace-period <duration>', 'a node without heartbeats this long becomes NotReady (Unknown) and tainted unreachable').argParser(duration).default(40_000, '40s'))
  .addOption(new Option('--endpoint-updates-batch-period <duration>', 'a pod change updates its Services\' Endpoints at once, or, if they were synced less than their wait ago (1 ms an address they list, at most this long), at the end of that wait with every change in between (0: one update per change)').argParser(durationOrZero).default(100, '100ms'))
  .option('--default-not-ready-toleration-seconds <n>', 'seconds a pod stays on a not-ready node unless it tolerates otherwise (as the API server flag)', count, 300)
  .option('--default-unreachable-toleration-seconds <n>', 'seconds a pod stays on an unreachable node unless it tolerates otherwise (as the API server flag)', count, 300)
  .option('--taint-node <node:k=v:Effect,...>', 'taints of one node, e.g. box-2:dedicated=gpu:NoSchedule (repeatable)', perNode(taints), {})
  .addOption(new Option('--restart-backoff <duration>', 'first wait before restarting a crashed container (doubles)').argParser(duration).default(10_000, '10s'))
  .addOption(new Option('--restart-backoff-max <duration>', 'longest wait before restarting a crashed container').argParser(duration).default(300_000, '5m'))
  .addOption(new Option('--runtime <name>', 'run pods as podman containers of their images, or as host processes (default: the data folder\'s runtime, else podman when it works here, else process)').choices(['podman', 'process']))
  .option('--cluster-cidr <cidr>', 'range of the nodes\' /24 pod CIDRs (default: 10.244.0.0/16 with podman, 127.1.0.0/16 with process)', cidr)
  .option('--service-cidr <cidr>', 'range of Services\' cluster IPs; its 10th address is the cluster DNS (default: 10.96.0.0/16 with podman, made local to the host; 127.2.0.0/16 with process)', cidr)
  .option('--git-image-base <image>', 'podman: image that git: images\' trees are mounted over (default: the host\'s /usr, /bin, /lib read-only)')
  .option('--storage-dir <dir>', 'where the local-path provisioner keeps PersistentVolumes (default: <data-dir>/storage)')
  .option('--allow-privileged', 'podman: allow containers with securityContext.privileged', false)
  .option('--registry-mirror <registry=url>', 'podman: pull <registry>\'s images from this mirror first, e.g. docker.io=http://127.0.0.1:5000 (repeatable; http:// is plain HTTP)', registryMirror)
  .option('--pod-pids-limit <n>', 'podman: most processes a container may run (default: no limit)', count)
  .option('--ingress-port <n>', 'port the ingress listener serves HTTP on, at --host (default: 80 when it can be bound, else 8080, else a free port; serve says which)', port)
  .option('--ingress-tls-port <n>', 'port the ingress listener serves HTTPS on (default: 443 when it can be bound, else 8443, else a free port)', port)
  .addOption(new Option('--metric-resolution <duration>', 'how often nodes measure their containers for kubectl top (metrics.k8s.io)').argParser(duration).default(15_000, '15s'))
  .addOption(new Option('--container-log-max-size <size>', 'a container\'s log file is rotated once it is over this size').argParser(bytes).default(10 * 1024 * 1024, '10Mi'))
  .addOption(new Option('--container-log-max-files <n>', 'log files kept per container, the current one included (at least 2)').argParser(logFiles).default(5))
  .addOption(new Option('--container-log-monitor-interval <duration>', 'how often container log files are checked for rotation').argParser(duration).default(10_000, '10s'))
  .addOption(new Option('--image-gc-high-threshold <percent>', 'podman: disk use of the image store at which unused images are removed').argParser(percent).default(85))
  .addOption(new Option('--image-gc-low-threshold <percent>', 'podman: disk use image garbage collection frees down to').argParser(percent).default(80))
  .addOption(new Option('--image-minimum-gc-age <duration>', 'podman: an image used more recently is never removed').argParser(duration).default(120_000, '2m'))
  .addOption(new Option('--loop-nice <n>', 'nice value of serve\'s threads (its event loop runs the API, proxy, controllers) when it may set it (root or CAP_SYS_NICE); nothing serve starts inherits it; 0 leaves it').argParser(raisingNice).default(-5))
  .addOption(new Option('--pods-cpu-shares <n>', 'process runtime: cpu.shares of the cgroup all containers run in, beside serve (cgroup v1, root): weighs them against serve when the cores are busy; 0: none').argParser(cpuShares).default(podsShares(), `${podsShares()}: 1024 a core but one`))
  .option('--hollow', 'hollow nodes (kubemark): pods run no process, containers run until deleted; env CONVERGIT_HOLLOW_* makes them exit or fail (docs/engine.md)', false)
  .addOption(new Option('--hollow-start-delay <duration>', 'with --hollow: how long each container takes to start').argParser(duration).default(0, '0'))
  .action(async (o) => {
    if (o.imageGcLowThreshold >= o.imageGcHighThreshold) {
      program.error(`error: --image-gc-low-threshold (${o.imageGcLowThreshold}) must be less than --image-gc-high-threshold (${o.imageGcHighThreshold})`);
    }
    // Loaded only for serve: the engine is most of the code, and every other command starts faster without it.
    const { serve } = await import('./serve.ts');
    await serve(o);
  });

program
  .command('validate')
  .description('validate a revision as serve would; prints file:line:column: kind/name: field: message; exit 1 when invalid')
  .requiredOption('--repo <path>', 'local repository')
  .option('--ref <rev>', 'branch, tag or commit to validate', 'HEAD')
  .option('--branch <name>', 'branch used when --ref is HEAD of a bare repository', 'main')
  .option('--path <dir>', 'folder inside the repository holding the manifests', repoPath, '')
  .option('--strict', 'treat Kubernetes fields that convergit does not implement as errors', false)
  .option('--allow-host-path <prefix>', 'a host folder hostPath volumes may mount (repeatable; default: none)', (v: string, prev: string[] = []) => [...prev, v])
  .option('--max-manifest-files <n>', 'most manifest files (*.yaml, *.yml, Kustomization) a revision may have; more: refused before any is read', count, DEFAULT_MAX_MANIFEST_FILES)
  .option('--worktree', 'validate the working tree as it is on disk, uncommitted files included (a pre-commit hook)', false)
  .action(async (o) => {
    if (o.worktree && o.ref !== 'HEAD') throw new Error('--worktree validates the files on disk: it takes no --ref');
    const { validate } = await import('./validate.ts');
    process.exitCode = await validate(o);
  });

withServerCredentials(program
  .command('plan')
  .description('what --ref would change: validation errors, a YAML diff per object, rollout impact, scheduling, warnings; '
    + 'exit 0 valid, 1 invalid or unschedulable, 2 with --detailed-exitcode when valid with changes')
  .option('--repo <path|url>', 'repository holding the ref', '.')
  .requiredOption('--ref <ref>', 'branch, tag or commit to plan (e.g. a pull request\'s branch)')
  .option('--base <ref>', 'compare with the desired state at this ref (default: the merge base with --branch) when no live state is given')
  .option('--server <url>', 'compare with the live state of a running convergit (read-only API; with --kubeconfig or --context: its server)'))
  .option('--data-dir <dir>', 'compare with the live state kept in a convergit data folder')
  .option('--branch <name>', 'the branch serve watches: the default base is the merge base with it', 'main')
  .option('--path <dir>', 'folder inside the repository holding the manifests', repoPath, '')
  .option('--strict', 'treat Kubernetes fields that convergit does not implement as errors', false)
  .option('--allow-host-path <prefix>', 'a host folder hostPath volumes may mount (repeatable; default: none)', (v: string, prev: string[] = []) => [...prev, v])
  .option('--max-manifest-files <n>', 'most manifest files (*.yaml, *.yml, Kustomization) a revision may have; more: refused before any is read', count, DEFAULT_MAX_MANIFEST_FILES)
  .addOption(new Option('--output <format>', 'text for a terminal, markdown for a pull-request comment, json for tools (docs/plan-json.md)').choices(['text', 'markdown', 'json']).default('text'))
  .option('--detailed-exitcode', 'exit 2 when the plan is valid and has changes', false)
  .action(async (o) => {
    // Any failure to plan is exit 1, as in Terraform: 2 means "valid, with changes" to a CI script.
    const { plan } = await import('./plan.ts');
    process.exitCode = await plan(o).catch((e) => { console.error(`convergit plan: ${e instanceof Error ? e.message : String(e)}`); return 1; });
  });

withServerCredentials(program
  .command('history')
  .description('the revisions serve has seen, newest first: committed → detected → applied → healthy or degraded, with health')
  .option('--server <url>', 'the convergit to ask (default: the kubeconfig\'s current context when convergit kubeconfig wrote it, else http://127.0.0.1:7480)'))
  .option('--data-dir <dir>', 'read the history from a data folder instead of a server')
  .addOption(new Option('--output <format>', 'text or json').choices(['text', 'json']).default('text'))
  .option('--limit <n>', 'show at most n revisions', count)
  .action(async (o) => {
    process.exitCode = await history(o).catch((e) => { console.error(`convergit history: ${e instanceof Error ? e.message : String(e)}`); return 1; });
  });

program
  .command('rollback')
  .description('roll back by committing: writes revert commits to the branch, newest first, back to --to, so git history stays the truth')
  .requiredOption('--to <ref>', 'the commit whose state to return to (sha, HEAD~2, tag …)')
  .option('--repo <path>', 'local repository (working tree or bare)', '.')
  .option('--branch <name>', 'the branch serve watches', 'main')
  .option('--dry-run', 'print the commits that would be reverted, write nothing', false)
  .action(async (o) => {
    const { rollback } = await import('./rollback.ts');
    process.exitCode = await rollback(o);
  });

program
  .command('stop')
  .description('stop the data folder\'s serve and every pod container it left running (serve alone, on Ctrl-C or SIGTERM, leaves them running for the next serve to re-adopt)')
  .option('--data-dir <dir>', 'the data folder', '.convergit')
  .addOption(new Option('--timeout <duration>', 'how long to wait for serve to exit').argParser(duration).default(60_000, '60s'))
  .option('--grace-period <seconds>', 'seconds each container is given to exit after SIGTERM, instead of its pod\'s terminationGracePeriodSeconds (as kubectl delete --grace-period; 0: SIGKILL at once)', count)
  .action(async (o) => {
    const { stop } = await import('./stop.ts');
    process.exitCode = await stop(o).catch((e) => { console.error(`convergit stop: ${e instanceof Error ? e.message : String(e)}`); return 1; });
  });

program
  .command('suspend')
  .description('stop applying new commits (running objects are left as they are) until `convergit resume`')
  .option('--data-dir <dir>', 'the data folder of the serve to suspend', '.convergit')
  .option('--reason <text>', 'shown in /status', '')
  .action((o) => suspend(o.dataDir, o.reason));

program
  .command('resume')
  .description('apply commits again, starting with the current head')
  .option('--data-dir <dir>', 'the data folder of the serve to resume', '.convergit')
  .action((o) => resume(o.dataDir));

program
  .command('drain <node>')
  .description('cordon the node and evict its pods as kubectl drain does, honouring PodDisruptionBudgets (retried every 5s while one allows no disruption); DaemonSet pods are left; through the running serve of --data-dir')
  .option('--data-dir <dir>', 'the data folder of the serve', '.convergit')
  .option('--force', 'also delete pods that no controller manages (they are not recreated)', false)
  .addOption(new Option('--timeout <duration>', 'give up after this long (default: wait for ever)').argParser(duration))
  .action(async (node, o) => {
    const { requestNode } = await import('./drain.ts');
    process.exitCode = await requestNode(node, 'drain', o);
  });

program
  .command('uncordon <node>')
  .description('mark the node schedulable again, through the running serve of --data-dir')
  .option('--data-dir <dir>', 'the data folder of the serve', '.convergit')
  .action(async (node, o) => {
    const { requestNode } = await import('./drain.ts');
    process.exitCode = await requestNode(node, 'uncordon', o);
  });

program
  .command('kubeconfig')
  .description('print a kubeconfig for the serve running on --data-dir (context convergit-<folder>), so plain kubectl works')
  .option('--data-dir <dir>', 'the data folder of the serve', '.convergit')
  .option('--merge', 'add it to the first file of $KUBECONFIG (default ~/.kube/config) and make it the current context', false)
  .action((o) => {
    process.exitCode = kubeconfig(o);
  });

// The options were taken and the command runs: the code it compiles is worth V8's cache (bin/run-bundle.js).
program.hook('preAction', () => saveCodeCacheAtExit());

// No top-level await: the bundle is CommonJS (scripts/prepare.mjs), so V8 can cache its compiled code (bin/run-bundle.js).
program.parseAsync().catch((e) => {
  console.error(`convergit: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(2);
});
