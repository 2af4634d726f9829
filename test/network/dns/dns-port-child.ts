// Starts the DNS server on port 0 twenty times while a TCP listener holds half of a two-port ephemeral range, for
// dns-server-port.test.ts (which runs it in a network namespace of its own with that range). Prints the ports.
import net from 'node:net';
import { startDnsServer } from '../../../src/network/dns/dns-server.ts';
import { isMainModule } from '../../support/child-main.ts';

if (isMainModule(import.meta.url)) {
  const held = Number(process.argv[2]);
  const hold = net.createServer();
  await new Promise<void>((r) => hold.listen(held, '127.0.0.1', r));
  const ports: number[] = [];
  for (let i = 0; i < 20; i++) {
    const s = await startDnsServer({ address: '127.0.0.1', port: 0, zone: 'cluster.local', view: { answers: () => undefined } as never, upstream: { forward: async () => undefined } as never });
    ports.push(s.port);
    await s.close();
  }
  hold.close();
  process.stdout.write(`ports ${ports.join(' ')}\n`);
}
