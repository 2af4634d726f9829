// The ingress listener's port: the first of its list that binds, saying why the ones before did not; a port the
// user named must bind.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import net from 'node:net';
import { listenFirst } from '../../../src/network/ingress/listen.ts';

test('a taken port is skipped with its reason; the only port named must bind', async () => {
  const holder = net.createServer();
  await new Promise<void>((r) => holder.listen(0, '127.0.0.1', () => r()));
  const taken = (holder.address() as net.AddressInfo).port;
  const second = net.createServer();
  const third = net.createServer();
  try {
    const bound = await listenFirst(second, '127.0.0.1', [taken, 0]);
    assert.is.not(bound.port, taken);
    assert.is((second.address() as net.AddressInfo).port, bound.port);
    assert.equal(bound.skipped, [`${taken}: EADDRINUSE`]);
    await listenFirst(third, '127.0.0.1', [taken]).then(() => assert.unreachable('bound a taken port'),
      (e) => assert.is(e.message, `can't listen on 127.0.0.1:${taken}: EADDRINUSE`));
    assert.not.ok(third.listening);
  } finally {
    for (const s of [holder, second, third]) if (s.listening) s.close();
  }
});

test.run();
