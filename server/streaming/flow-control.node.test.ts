import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FlowControlTimeout, waitForRoom } from './flow-control';

test('waitForRoom returns at once when there is room, and after the buffer drains otherwise', async () => {
  const channel = { bufferedAmount: 0, readyState: 'open' };
  assert.equal(await waitForRoom(channel, 1000, 4096, () => false, 1000), true);
  channel.bufferedAmount = 4000;
  const waiting = waitForRoom(channel, 1000, 4096, () => false, 1000);
  setTimeout(() => (channel.bufferedAmount = 3000), 20);
  assert.equal(await waiting, true);
});

test('waitForRoom gives up when cancelled or the channel closes, and times out on a stuck buffer', async () => {
  const channel = { bufferedAmount: 10_000, readyState: 'open' };
  let cancelled = false;
  const waiting = waitForRoom(channel, 1000, 4096, () => cancelled, 1000);
  setTimeout(() => (cancelled = true), 20);
  assert.equal(await waiting, false);
  const closing = waitForRoom(channel, 1000, 4096, () => false, 1000);
  setTimeout(() => (channel.readyState = 'closed'), 20);
  assert.equal(await closing, false);
  channel.readyState = 'open';
  await assert.rejects(waitForRoom(channel, 1000, 4096, () => false, 50), FlowControlTimeout);
});
