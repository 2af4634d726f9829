// A tiny key/value server: the counter the web frontend shows. Plain Node, no dependencies.
// Listens on the pod's own address (POD_IP), so replicas on one machine never clash.
// With DATA_DIR set (the StatefulSet mounts its PersistentVolumeClaim there) the values are kept in
// DATA_DIR/kv.json, so they survive a crash, a restart and the pod being replaced; without it, in memory.
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');

const host = process.env.POD_IP || '127.0.0.1';
const port = Number(process.env.PORT || 9000);
const file = process.env.DATA_DIR && path.join(process.env.DATA_DIR, 'kv.json');
const values = new Map(file && fs.existsSync(file) ? Object.entries(JSON.parse(fs.readFileSync(file, 'utf8'))) : []);

/** Written whole to a temporary file, then renamed over the old one: a crash leaves the old or the new, never half. */
function save() {
  if (!file) return;
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(Object.fromEntries(values)));
  fs.renameSync(`${file}.tmp`, file);
}

const server = http.createServer((req, res) => {
  if (req.url === '/healthz') return res.end('ok\n');
  res.setHeader('content-type', 'application/json');
  // Every key and value at once: what the backup CronJob saves.
  if (req.url === '/kv') return res.end(JSON.stringify(Object.fromEntries(values)) + '\n');
  const m = /^\/kv\/([\w.-]+)(\/incr)?$/.exec(req.url || '');
  if (!m) { res.statusCode = 404; return res.end('{"error":"not found"}\n'); }
  const [, key, incr] = m;
  if (incr && req.method === 'POST') {
    values.set(key, (values.get(key) || 0) + 1);
    save();
  }
  res.end(JSON.stringify({ key, value: values.get(key) || 0 }) + '\n');
});

server.listen(port, host, () => console.log(`backend listening on ${host}:${port}${file ? `, data in ${file} (${values.size} keys)` : ''}`));
// Kubernetes sends SIGTERM first: finish what is in flight, then exit.
process.on('SIGTERM', () => server.close(() => process.exit(0)));
