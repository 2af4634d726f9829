// The backup the CronJob runs: reads every key from the backend through its Service and writes them to
// BACKUP_DIR/kv-<time>.json (its own PersistentVolumeClaim), keeping the newest KEEP files. Exits non-zero on any
// failure, so the Job retries it (backoffLimit) and a failed backup shows as a failed Job.
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');

const backend = `${process.env.BACKEND_SERVICE_HOST}:${process.env.BACKEND_SERVICE_PORT}`;
const dir = process.env.BACKUP_DIR || '.';
const keep = Number(process.env.KEEP || 5);

http.get(`http://${backend}/kv`, { timeout: 5000, agent: false }, (res) => {
  let body = '';
  res.on('data', (c) => (body += c));
  res.on('end', () => {
    if (res.statusCode !== 200) return fail(`backend answered ${res.statusCode}: ${body}`);
    const values = JSON.parse(body);
    const name = `kv-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
    fs.writeFileSync(path.join(dir, `.${name}.tmp`), body);
    fs.renameSync(path.join(dir, `.${name}.tmp`), path.join(dir, name));
    const old = fs.readdirSync(dir).filter((f) => /^kv-.*\.json$/.test(f)).sort().slice(0, -keep);
    for (const f of old) fs.rmSync(path.join(dir, f));
    console.log(`backed up ${Object.keys(values).length} keys to ${name}${old.length ? `, removed ${old.length} older` : ''}`);
  });
}).on('timeout', function () { this.destroy(new Error('timed out')); }).on('error', (e) => fail(`cannot reach the backend at ${backend}: ${e.message}`));

function fail(message) {
  console.error(`backup failed: ${message}`);
  process.exit(1);
}
