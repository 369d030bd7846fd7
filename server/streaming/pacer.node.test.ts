import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_CHUNK_SIZE } from '../../components/protocol';
import { pacingDelay, type PacingConfig } from './pacer';

const config: PacingConfig = { chunksPerSecond: 20, burstBytes: 1 << 20, burstMs: 2000 };

test('the start-up burst is unpaced until its bytes or its time run out', () => {
  assert.equal(pacingDelay(config, { bytesSent: 0, startedAt: 0, lastSentAt: 0 }, MAX_CHUNK_SIZE, 0), 0);
  assert.equal(pacingDelay(config, { bytesSent: (1 << 20) - 1, startedAt: 0, lastSentAt: 100 }, MAX_CHUNK_SIZE, 100), 0);
  // bytes exhausted → paced at 50 ms per 64 KiB chunk
  assert.equal(pacingDelay(config, { bytesSent: 1 << 20, startedAt: 0, lastSentAt: 100 }, MAX_CHUNK_SIZE, 100), 50);
  // time exhausted (few bytes sent) → paced too
  assert.equal(pacingDelay(config, { bytesSent: 10, startedAt: 0, lastSentAt: 2000 }, MAX_CHUNK_SIZE, 2010), 40);
});

test('pacing is by bytes: smaller chunks come proportionally more often', () => {
  const state = { bytesSent: 1 << 21, startedAt: 0, lastSentAt: 5000 };
  assert.equal(pacingDelay(config, state, MAX_CHUNK_SIZE / 4, 5000), 12.5);
  assert.equal(pacingDelay(config, state, MAX_CHUNK_SIZE, 5070), 0); // late already: send now
});

test('chunksPerSecond 0 means never paced', () => {
  const unpaced = { ...config, chunksPerSecond: 0 };
  assert.equal(pacingDelay(unpaced, { bytesSent: 1 << 30, startedAt: 0, lastSentAt: 1e6 }, MAX_CHUNK_SIZE, 1e6), 0);
});

test('a fractional rate paces at audio rates: 0.25 chunk/s = one 64 KiB chunk every 4 s', () => {
  const config = { chunksPerSecond: 0.25, burstBytes: 0, burstMs: 0 };
  assert.equal(pacingDelay(config, { bytesSent: 65536, startedAt: 0, lastSentAt: 1000 }, 65536, 1000), 4000);
  assert.equal(pacingDelay(config, { bytesSent: 65536, startedAt: 0, lastSentAt: 1000 }, 16384, 1000), 1000, '16 KiB/s whatever the chunk size');
});
