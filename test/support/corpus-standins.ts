// Stand-ins for the images the public corpus's Jobs, CronJobs and DaemonSets run (these machines have no internet):
// busybox-static images pushed under the corpus's exact names to a local registry that serve uses as a mirror of
// docker.io, quay.io and registry.k8s.io (--registry-mirror), each with an entrypoint that does, for what the
// manifests run, what the original does. And the corpus scan: which of those workloads pin a digest no stand-in
// can match.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pushBusyboxImage, type ImageConfig, type Registry } from './registry.ts';

/** Marks the stand-ins in podman's (machine-wide) image store, so a leftover of an earlier run is told from a real image. */
export const STANDIN_LABEL = 'convergit.test-standin';

/** Mirrored registry → the mirror's path on the local registry. */
export const MIRROR_PATHS: Record<string, string> = { 'docker.io': '', 'quay.io': '/quay.io', 'registry.k8s.io': '/registry.k8s.io' };

export const mirrorFlags = (reg: Registry) => Object.entries(MIRROR_PATHS).flatMap(([r, p]) => ['--registry-mirror', `${r}=http://${reg.host}${p}`]);

/** The corpus's image names (as written there) → their stand-in. */
export const STANDINS: Record<string, { full: string; config: ImageConfig }> = {
  // nginx's image: the welcome page on port 80, an access log line per request on stdout.
  nginx: {
    full: 'docker.io/library/nginx:latest',
    config: {
      entrypoint: ['/docker-entrypoint.sh'], cmd: ['nginx', '-g', 'daemon off;'],
      files: {
        '/docker-entrypoint.sh': '#!/bin/sh\necho "/docker-entrypoint.sh: Configuration complete; ready for start up"\nexec "$@"\n',
        '/usr/sbin/nginx': '#!/bin/sh\n# stand-in: serves /usr/share/nginx/html on :80, logging each request\necho "nginx stand-in: start worker processes"\nexec httpd -f -v -p 80 -h /usr/share/nginx/html\n',
        '/usr/share/nginx/html/index.html': '<!DOCTYPE html>\n<html>\n<head>\n<title>Welcome to nginx!</title>\n</head>\n<body>\n<h1>Welcome to nginx!</h1>\n</body>\n</html>\n',
      },
      env: { PATH: '/usr/sbin:/bin' },
    },
  },
  // descheduler (FROM scratch, USER 1000): one descheduling pass with the policy given, then exit 0.
  'registry.k8s.io/descheduler/descheduler:v0.36.0': {
    full: 'registry.k8s.io/descheduler/descheduler:v0.36.0',
    config: {
      user: '1000', cmd: ['/bin/descheduler', '--help'],
      files: {
        '/bin/descheduler': [
          '#!/bin/sh',
          '# stand-in for descheduler v0.36.0: reads --policy-config-file, runs one pass that evicts nothing, exits 0',
          'while [ $# -gt 0 ]; do case "$1" in --policy-config-file) policy="$2"; shift ;; --help) echo "Usage: descheduler [flags]"; exit 0 ;; esac; shift; done',
          '[ -r "$policy" ] || { echo "E failed to read policy config file \\"$policy\\"" >&2; exit 1; }',
          'grep -q \'kind: "DeschedulerPolicy"\' "$policy" || { echo "E $policy is not a DeschedulerPolicy" >&2; exit 1; }',
          'echo "I descheduler stand-in v0.36.0 uid=$(id -u) policy=$policy profiles=$(grep -c \'^  - name:\' "$policy")"',
          'for p in $(sed -n \'/enabled:/,/^[^ ]/s/^ *- "\\(.*\\)"/\\1/p\' "$policy"); do echo "I Running plugin $p"; done',
          'echo \'I "Number of evictions from pods" totalEvicted=0\'',
          '',
        ].join('\n'),
      },
    },
  },
  // weaveworksdemos/log-server (fluentd with its elk.conf): starts with $FLUENTD_CONF, tails the node's container logs.
  'weaveworksdemos/log-server': {
    full: 'docker.io/weaveworksdemos/log-server:latest',
    config: {
      cmd: ['/bin/fluentd-standin'],
      env: { FLUENTD_CONF: 'fluent.conf' },
      files: {
        '/fluentd/etc/elk.conf': '<source>\n  @type tail\n  path /var/lib/docker/containers/*/*.log\n</source>\n',
        '/bin/fluentd-standin': '#!/bin/sh\n# stand-in for fluentd -c /fluentd/etc/$FLUENTD_CONF: reads its config, then follows the container logs\n'
          + 'conf=/fluentd/etc/$FLUENTD_CONF\n[ -r "$conf" ] || { echo "fluentd: config $conf not found" >&2; exit 1; }\n'
          + 'echo "fluentd stand-in: reading config file path=\\"$conf\\""\necho "fluentd stand-in: following $(grep path "$conf" | sed \'s/^ *path //\')"\n'
          + 'trap "exit 0" TERM\nwhile :; do sleep 1; done\n',
      },
    },
  },
  // node-exporter (USER nobody): /metrics on --web.listen-address, from --path.rootfs.
  'quay.io/prometheus/node-exporter:v1.1.2': {
    full: 'quay.io/prometheus/node-exporter:v1.1.2',
    config: {
      entrypoint: ['/bin/node_exporter'], user: '65534',
      files: {
        '/bin/node_exporter': [
          '#!/bin/sh',
          '# stand-in for node_exporter v1.1.2: /metrics on --web.listen-address, filesystem figures from --path.rootfs',
          'listen=:9100; rootfs=/',
          'for a in "$@"; do case "$a" in --web.listen-address=*) listen="${a#*=}" ;; --path.rootfs=*) rootfs="${a#*=}" ;; esac; done',
          'dir=/tmp/node_exporter; mkdir -p $dir',
          '{ echo \'node_exporter_build_info{version="1.1.2"} 1\'',
          '  df -k "$rootfs" | tail -n 1 | while read fs total used avail rest; do echo "node_filesystem_avail_bytes{mountpoint=\\"/\\"} $((avail * 1024))"; done',
          '  echo "process_uid $(id -u)"; } > $dir/metrics',
          'echo "level=info msg=\\"Listening on\\" address=$listen"',
          'exec httpd -f -p "$listen" -h $dir',
          '',
        ].join('\n'),
      },
    },
  },
};

/** The local path under the registry where `full` is pushed, given the mirror layout. */
export function mirrorRef(reg: Registry, full: string): string {
  const at = full.indexOf('/');
  return `${reg.host}${MIRROR_PATHS[full.slice(0, at)]}/${full.slice(at + 1)}`;
}

/** Pushes each named stand-in to the registry; returns full name → pushed digest. */
export function pushStandins(reg: Registry, names: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const s = STANDINS[name];
    out[s.full] = pushBusyboxImage(mirrorRef(reg, s.full), { ...s.config, labels: { [STANDIN_LABEL]: 'true' } });
  }
  return out;
}

/**
 * Removes the stand-ins from podman's image store (what a run pulled). An image of that name that is not a stand-in
 * (a real one pulled by someone) is left alone, and returned: with it present an IfNotPresent pull would not go to
 * the mirror.
 */
export function removeStandins(names: string[]): string[] {
  const real: string[] = [];
  for (const name of names) {
    const full = STANDINS[name].full;
    let label: string;
    try {
      label = execFileSync('podman', ['image', 'inspect', '--format', `{{index .Labels "${STANDIN_LABEL}"}}`, full], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      continue; // not present
    }
    if (label === 'true') execFileSync('podman', ['rmi', '-f', full], { stdio: 'ignore' });
    else real.push(full);
  }
  return real;
}

export interface CorpusWorkload { file: string; kind: string; name: string; images: string[] }

/** Every Job, CronJob and DaemonSet document of the corpus with the images it names (init containers too). */
export function corpusWorkloads(corpus: string): CorpusWorkload[] {
  const walk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : /\.ya?ml$/.test(e.name) ? [join(dir, e.name)] : []);
  const out: CorpusWorkload[] = [];
  for (const file of walk(corpus)) {
    for (const doc of readFileSync(file, 'utf8').split(/^---.*$/m)) {
      const kind = /^kind:\s*(\S+)\s*$/m.exec(doc)?.[1];
      if (kind !== 'Job' && kind !== 'CronJob' && kind !== 'DaemonSet') continue;
      const name = /^metadata:\s*\n(?:\s+.*\n)*?\s+name:\s*(\S+)/m.exec(doc)?.[1] ?? '?';
      const images = [...doc.matchAll(/^\s*-?\s*image:\s*["']?([^\s"']+)/gm)].map((m) => m[1]);
      out.push({ file: relative(corpus, file), kind, name, images: [...new Set(images)] });
    }
  }
  return out.sort((a, b) => a.file.localeCompare(b.file));
}
