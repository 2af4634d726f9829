// The web frontend: shows which pod answered, the greeting from the ConfigMap and a visit counter kept by the
// backend. Plain Node, no dependencies. Edit it and commit: convergit rolls the new version out.
const http = require('node:http');

const host = process.env.POD_IP || '127.0.0.1';
const port = Number(process.env.PORT || 8080);
const pod = process.env.POD_NAME || require('node:os').hostname();
const greeting = process.env.GREETING || 'Hello';
// Kubernetes-style service variables, set for every Service of the namespace.
const backend = process.env.BACKEND_SERVICE_HOST && `${process.env.BACKEND_SERVICE_HOST}:${process.env.BACKEND_SERVICE_PORT}`;
const VERSION = 'v1';

function countVisit() {
  if (!backend) return Promise.resolve('no backend');
  return new Promise((resolve) => {
    const req = http.request(`http://${backend}/kv/visits/incr`, { method: 'POST', timeout: 1000, agent: false }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => { try { resolve(JSON.parse(body).value); } catch { resolve('unavailable'); } });
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve('unavailable'));
    req.end();
  });
}

const escape = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

const server = http.createServer(async (req, res) => {
  if (req.url === '/healthz') return res.end('ok\n');
  if (req.url === '/api') {
    res.setHeader('content-type', 'application/json');
    return res.end(JSON.stringify({ pod, greeting, version: VERSION, visits: await countVisit() }) + '\n');
  }
  const visits = await countVisit();
  res.setHeader('content-type', 'text/html; charset=utf-8');
  res.end(`<!doctype html><title>${escape(greeting)}</title>
<body style="font-family: system-ui; margin: 3em">
<h1>${escape(greeting)}</h1>
<p>Served by pod <b>${escape(pod)}</b> (${VERSION}).</p>
<p>Visits so far: <b>${escape(visits)}</b></p>
</body>\n`);
});

server.listen(port, host, () => console.log(`web ${VERSION} listening on ${host}:${port}`));
// Kubernetes sends SIGTERM first: stop taking connections, finish what is in flight, then exit.
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
});
