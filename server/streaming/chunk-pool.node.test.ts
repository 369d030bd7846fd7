import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChunkPool } from './chunk-pool';

test('a pool hands out views of the asked length and reuses a released buffer', () => {
  const pool = new ChunkPool(1024, 2);
  const first = pool.acquire(1024);
  const short = pool.acquire(100);
  assert.equal(first.byteLength, 1024);
  assert.equal(short.byteLength, 100);
  assert.notEqual(first.buffer, short.buffer, 'two held chunks never share a buffer');
  pool.release(first);
  assert.equal(pool.acquire(10).buffer, first.buffer);
});

test('a pool keeps at most maxFree buffers and refuses foreign or oversized ones', () => {
  const pool = new ChunkPool(1024, 2);
  const held = [pool.acquire(1024), pool.acquire(1024), pool.acquire(1024)];
  for (const bytes of held) pool.release(bytes);
  assert.equal(pool.freeBuffers, 2);
  pool.release(new Uint8Array(512)); // not one of the pool's size: never handed out later
  assert.equal(pool.freeBuffers, 2);
  assert.throws(() => pool.acquire(1025), RangeError);
});
