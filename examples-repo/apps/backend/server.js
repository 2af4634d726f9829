// A tiny key/value server: the counter the web frontend shows. Plain Node, no dependencies.
// Listens on the pod's own address (POD_IP), so replicas on one machine never clash.
const http = require('node:http');

const host = process.env.POD_IP || '127.0.0.1';
const port = Number(process.env.PORT || 9000);
const values = new Map();

const server = http.createServer((req, res) => {
  const m = /^\/kv\/([\w.-]+)(\/incr)?$/.exec(req.url || '');
  if (req.url === '/healthz') return res.end('ok\n');
  if (!m) { res.statusCode = 404; return res.end('not found\n'); }
  const [, key, incr] = m;
  if (incr && req.method === 'POST') values.set(key, (values.get(key) || 0) + 1);
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ key, value: values.get(key) || 0 }) + '\n');
});

server.listen(port, host, () => console.log(`backend listening on ${host}:${port}`));
// Kubernetes sends SIGTERM first: finish what is in flight, then exit.
process.on('SIGTERM', () => server.close(() => process.exit(0)));
