// The bundled example (examples-repo/, what `npm start` serves) seen from outside: its frontend's /api on the fixed
// NodePort 30080, which counts visits through the backend's ClusterIP.
import http from 'node:http';

/** GET /api on a fresh connection each time: the proxy picks a pod per connection, and fetch would keep reusing one. */
export const exampleApi = (port = 30080) => new Promise<{ pod: string; visits: number | string }>((resolve, reject) => {
  http.get(`http://127.0.0.1:${port}/api`, { agent: false, timeout: 5000 }, (res) => {
    let body = '';
    res.on('data', (c) => (body += c)).on('end', () => { try { resolve(JSON.parse(body)); } catch (e) { reject(e); } }).on('error', reject);
  }).on('timeout', function (this: http.ClientRequest) { this.destroy(new Error('timeout')); }).on('error', reject);
});
