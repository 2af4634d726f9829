// A pod's MAC follows from its IPv4 address (src/node/runtime/podman/pod-mac.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { podMac } from '../../src/node/runtime/podman/pod-mac.ts';

test('02:42 and the four bytes of the address, in hex', () => {
  assert.is(podMac('10.246.0.13'), '02:42:0a:f6:00:0d');
  assert.is(podMac('172.17.255.1'), '02:42:ac:11:ff:01');
});

test('no MAC for what is not an IPv4 address: the interface keeps a random one', () => {
  for (const ip of ['fd00::5', '10.0.0', '10.0.0.256', '', 'a.b.c.d']) assert.is(podMac(ip), undefined, ip);
});

test.run();
