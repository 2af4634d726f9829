// A real smart-HTTP git server for tests: node:http in front of `git http-backend`, run as a CGI per request.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

export interface GitHttpServer {
  /** Base URL: the repository `<root>/x.git` is at `${url}/x.git`. */
  url: string;
  stop(): Promise<void>;
}

const backend = join(execFileSync('git', ['--exec-path'], { encoding: 'utf8' }).trim(), 'git-http-backend');

/** Serves every repository under `root` (read-only: fetch and clone) on 127.0.0.1, on a free port. */
export async function startGitHttpServer(root: string): Promise<GitHttpServer> {
  const children = new Set<ChildProcess>();
  const server = createServer((req, res) => cgi(root, req, res, children));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      for (const child of children) child.kill();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

function cgi(root: string, req: IncomingMessage, res: ServerResponse, children: Set<ChildProcess>) {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const header = (name: string) => String(req.headers[name] ?? '');
  const child = spawn(backend, [], {
    env: {
      PATH: process.env.PATH,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_PROJECT_ROOT: root,
      GIT_HTTP_EXPORT_ALL: '1',
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.slice(1),
      REQUEST_METHOD: req.method ?? 'GET',
      CONTENT_TYPE: header('content-type'),
      CONTENT_LENGTH: header('content-length'),
      HTTP_CONTENT_ENCODING: header('content-encoding'),
      GIT_PROTOCOL: header('git-protocol'),
      REMOTE_ADDR: req.socket.remoteAddress ?? '',
    },
  });
  children.add(child);
  child.on('close', () => children.delete(child));
  child.on('error', (e) => fail(res, e));
  child.stdin.on('error', () => {}); // the backend may exit before reading the whole body
  req.pipe(child.stdin);

  // CGI output: headers (with an optional `Status: 404 Not Found`), a blank line, then the body.
  let head = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    const endLf = head.indexOf('\n\n');
    const [at, sepLength] = end >= 0 && (endLf < 0 || end < endLf) ? [end, 4] : [endLf, 2];
    if (at < 0) return;
    child.stdout.off('data', onData);
    let status = 200;
    for (const line of head.subarray(0, at).toString('latin1').split(/\r?\n/)) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim();
      const value = line.slice(colon + 1).trim();
      if (name.toLowerCase() === 'status') status = parseInt(value, 10);
      else res.setHeader(name, value);
    }
    res.writeHead(status);
    res.write(head.subarray(at + sepLength));
    child.stdout.pipe(res);
  };
  child.stdout.on('data', onData);
  child.stdout.on('end', () => {
    if (!res.headersSent) fail(res, new Error('git http-backend sent no headers'));
  });
}

function fail(res: ServerResponse, e: Error) {
  if (res.headersSent) return res.destroy(e);
  res.writeHead(500, { 'content-type': 'text/plain' }).end(`git http-backend failed: ${e.message}\n`);
}
