// The composition root: parses the command line and wires the parts together. Nothing imports this file.
import { Command, Option } from 'commander';
import { serve } from './serve.ts';
import { validate } from './validate.ts';
import { count, duration, labels, nodeName, port, quantity, repoPath } from './options.ts';
import { defaultNodeName } from './engine.ts';
import { VERSION } from './version.ts';
import { resume, suspend } from './suspend.ts';

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
  .option('--interval <duration>', 'how often a remote repository is fetched', duration, 30_000)
  .option('--strict', 'treat Kubernetes fields that convergit does not implement as errors', false)
  .option('--example', 'serve the bundled examples-repo, copied into a git repository under --data-dir', false)
  .addOption(new Option('--retry-base <duration>', 'first wait before retrying a failed sync (doubles up to 5m)').argParser(duration).default(2000, '2s'))
  .option('--nodes <n>', 'local nodes to run pods on (0: none, pods stay Pending)', count, 1)
  .option('--node-name <name>', 'name of the local node (with --nodes N: <name>-1 … <name>-N)', nodeName, defaultNodeName())
  .option('--node-cpu <cores>', 'cpu each node offers to pods, like 2 or 1500m (default: the machine\'s cores)', quantity)
  .option('--node-memory <bytes>', 'memory each node offers to pods, like 4Gi (default: the machine\'s memory)', quantity)
  .option('--node-pods <n>', 'pods each node may run', count)
  .option('--node-labels <k=v,...>', 'labels of the nodes, for nodeSelector', labels, {})
  .addOption(new Option('--restart-backoff <duration>', 'first wait before restarting a crashed container (doubles)').argParser(duration).default(10_000, '10s'))
  .addOption(new Option('--restart-backoff-max <duration>', 'longest wait before restarting a crashed container').argParser(duration).default(300_000, '5m'))
  .action(async (o) => {
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
  .action(async (o) => {
    process.exitCode = await validate(o);
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

try {
  await program.parseAsync();
} catch (e) {
  console.error(`convergit: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(2);
}
