import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { IpPool, inCidr, parseCidr } from '../../src/model/ip-pool.ts';
import { PortPool } from '../../src/network/port-pool.ts';

test('parseCidr and inCidr', () => {
  assert.equal(parseCidr('127.1.3.0/24'), { first: (127 << 24) + (1 << 16) + (3 << 8), size: 256 });
  assert.equal(parseCidr('10.0.0.77/30').size, 4);
  assert.is(parseCidr('10.0.0.77/30').first % 4, 0, 'host bits are masked off');
  for (const bad of ['127.1.3.0', '127.1.3.0/31', '256.0.0.0/8', 'a.b.c.d/8', '127.1.3.0/']) {
    assert.throws(() => parseCidr(bad), /invalid CIDR/, bad);
  }
  assert.ok(inCidr('127.2.255.255', '127.2.0.0/16'));
  assert.not.ok(inCidr('127.3.0.0', '127.2.0.0/16'));
  assert.not.ok(inCidr('127.2.0.300', '127.2.0.0/16'));
  assert.not.ok(inCidr('not-an-ip', '127.2.0.0/16'));
});

test('allocate hands out addresses in order, never the network or broadcast address', () => {
  const pool = new IpPool('10.9.0.0/29'); // 8 addresses, 6 usable
  assert.is(pool.capacity, 6);
  const got = Array.from({ length: 6 }, () => pool.allocate());
  assert.equal(got, ['10.9.0.1', '10.9.0.2', '10.9.0.3', '10.9.0.4', '10.9.0.5', '10.9.0.6']);
  assert.is(pool.free, 0);
  assert.throws(() => pool.allocate(), /no free address left in 10\.9\.0\.0\/29/);
  assert.not.ok(pool.reserve('10.9.0.0'), 'network address');
  assert.not.ok(pool.reserve('10.9.0.7'), 'broadcast address');
});

test('reserve takes addresses found in the store; allocate skips them', () => {
  const pool = new IpPool('10.9.0.0/29');
  assert.ok(pool.reserve('10.9.0.1'));
  assert.ok(pool.reserve('10.9.0.3'));
  assert.not.ok(pool.reserve('10.9.0.3'), 'already taken');
  assert.not.ok(pool.reserve('10.9.1.3'), 'outside the pool');
  assert.ok(pool.has('10.9.0.3'));
  assert.equal([pool.allocate(), pool.allocate()], ['10.9.0.2', '10.9.0.4']);
  assert.is(pool.free, 2);
});

test('a released address goes to the back of the line', () => {
  const pool = new IpPool('10.9.0.0/29');
  const [a, b] = [pool.allocate(), pool.allocate()];
  pool.release(a);
  pool.release(b);
  pool.release(b); // twice is harmless
  assert.not.ok(pool.has(a));
  // Every never-used address comes first, then the released ones, oldest release first.
  const rest = Array.from({ length: 6 }, () => pool.allocate());
  assert.equal(rest, ['10.9.0.3', '10.9.0.4', '10.9.0.5', '10.9.0.6', a, b]);
  assert.throws(() => pool.allocate(), /no free address/);
});

test('a preferred address is taken when free, else the usual order applies', () => {
  const pool = new IpPool('10.9.0.0/29');
  assert.is(pool.allocate('10.9.0.5'), '10.9.0.5');
  assert.is(pool.allocate('10.9.0.5'), '10.9.0.1', 'taken: falls back');
  assert.is(pool.allocate('10.8.0.1'), '10.9.0.2', 'outside: falls back');
  pool.release('10.9.0.5');
  assert.is(pool.allocate('10.9.0.5'), '10.9.0.5', 'a released address can be preferred back at once');
  // ...and is then no longer in the released line.
  assert.equal([pool.allocate(), pool.allocate(), pool.allocate()], ['10.9.0.3', '10.9.0.4', '10.9.0.6']);
  assert.throws(() => pool.allocate(), /no free address/);
});

test('addressAt maps any number onto a usable address', () => {
  const pool = new IpPool('10.9.0.0/29');
  assert.is(pool.addressAt(0), '10.9.0.1');
  assert.is(pool.addressAt(5), '10.9.0.6');
  assert.is(pool.addressAt(6), '10.9.0.1');
  assert.is(pool.addressAt(2 ** 32 - 1), pool.addressAt((2 ** 32 - 1) % 6));
});

test('PortPool: range, preference, back of the line, full', () => {
  assert.throws(() => new PortPool(30010, 30000), /invalid port range/);
  const pool = new PortPool(30000, 30002);
  assert.is(pool.range, '30000-30002');
  assert.not.ok(pool.reserve(29999));
  assert.is(pool.allocate(30001), 30001);
  assert.is(pool.allocate(30001), 30000);
  pool.release(30000);
  assert.is(pool.allocate(), 30002);
  assert.is(pool.allocate(), 30000, 'released ones after never-used ones');
  assert.throws(() => pool.allocate(), /range is full/);
  assert.is(pool.portAt(4), 30001);
});

test.run();
