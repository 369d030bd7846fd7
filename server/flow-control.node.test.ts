/**
 * Receive-side flow control with real @roamhq/wrtc client peers against the real app: `pause`
 * stops the bytes (and trips no drain or stall timeout), `resume` continues at exactly the next
 * byte without a catch-up burst; a `window` (in the offer or as a message) stops the stream at
 * exactly the granted byte, whatever the client's timing; a long hold ends with the retryable
 * IDLE_TIMEOUT, and anything malformed still gets BAD_MESSAGE.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { MAX_CHUNK_SIZE } from '../components/protocol';
import { fakeMp3, sha256, tempLibrary, type TempLibrary } from './testing/fixtures';
import { startTestServer, type TestServer } from './testing/in-process-server';
import { TestClient } from './testing/wrtc-client';

const SIZE = 40 * MAX_CHUNK_SIZE + 12345;
const PACE = 10; // chunks per second after a one-chunk burst: 100 ms between chunks

let lib: TempLibrary;
let server: TestServer;
let file: Buffer;

before(async () => {
  lib = await tempLibrary();
  file = fakeMp3(SIZE);
  await lib.write('long.mp3', file);
  await lib.write('tiny.mp3', fakeMp3(1000));
  server = await startTestServer({
    AUDIO_DIR: lib.dir,
    PACE_CHUNKS_PER_SECOND: String(PACE),
    BURST_BYTES: String(MAX_CHUNK_SIZE),
    BURST_MS: '0',
  });
});

after(async () => {
  await server.close();
  await lib.remove();
});

const received = (client: TestClient) => client.result.chunks.reduce((n, chunk) => n + chunk.byteLength, 0);

async function noPeersLeft(): Promise<void> {
  const deadline = Date.now() + 5000;
  while (server.peers.activePeers > 0) {
    assert.ok(Date.now() < deadline, `${server.peers.activePeers} peers still open`);
    await sleep(20);
  }
}

test('pause stops the bytes; resume continues byte-exact from the next byte, paced, to complete', async () => {
  const client = new TestClient(server.url, { src: 'long.mp3', timeoutMs: 60_000 });
  try {
    await client.connect();
    await client.until(() => client.result.chunks.length >= 3);
    client.send({ type: 'pause' });
    client.send({ type: 'pause' }); // idempotent
    // What was in flight when the pause arrived may still land; then nothing more.
    await sleep(400);
    const atPause = received(client);
    // Longer than the client stall timeout (5 s) would be: the server must not count a pause as a dead peer.
    await sleep(5500);
    assert.equal(received(client), atPause, 'no binary message while paused');
    assert.ok(atPause < SIZE, 'the stream was held mid-file');
    assert.equal(client.result.ended, 'timeout', 'the stream is still open (no error, no close)');
    const chunksAtResume = client.result.chunks.length;
    client.send({ type: 'resume' });
    client.send({ type: 'resume' }); // idempotent
    const resumedAt = performance.now();
    await client.until(() => client.result.chunks.length >= chunksAtResume + 6, 10_000);
    // Six chunks after a 6 s pause take at least five pacing intervals: idle time earned no
    // catch-up burst (a lower bound on spacing, not a speed target).
    const spread = performance.now() - resumedAt;
    assert.ok(spread >= 5 * (1000 / PACE) * 0.8, `6 chunks ${spread.toFixed(0)} ms after resume: burst instead of pacing`);
    const result = await client.done;
    assert.equal(result.ended, 'complete');
    assert.equal(sha256(client.bytes()), sha256(file), 'no byte lost or duplicated across the pause');
    for (const chunk of result.chunks.slice(0, -1)) assert.equal(chunk.byteLength, MAX_CHUNK_SIZE);
  } finally {
    client.close();
  }
  await noPeersLeft();
});

test('window: no chunk begins at or after the granted end; raising it continues byte-exact; a lower end changes nothing', async () => {
  // The offer grants 3 chunks and 10 bytes: the 4th chunk begins below the end and goes whole.
  const client = new TestClient(server.url, { src: 'long.mp3', windowEnd: 3 * MAX_CHUNK_SIZE + 10, timeoutMs: 60_000 });
  try {
    await client.connect();
    await client.until(() => client.result.chunks.length >= 4);
    // Paced at 100 ms a chunk, a stream without the window would send 10 more meanwhile.
    await sleep(1000);
    assert.equal(received(client), 4 * MAX_CHUNK_SIZE, 'held at the window: whole chunks, none beginning past the end');
    client.send({ type: 'window', end: 6 * MAX_CHUNK_SIZE });
    await client.until(() => client.result.chunks.length >= 6);
    client.send({ type: 'window', end: MAX_CHUNK_SIZE }); // stale: ignored, not a request to take bytes back
    await sleep(800);
    assert.equal(received(client), 6 * MAX_CHUNK_SIZE, 'an end on a chunk boundary sends up to it exactly');
    assert.equal(client.result.ended, 'timeout', 'held, not ended');
    client.send({ type: 'window', end: SIZE });
    const result = await client.done;
    assert.equal(result.ended, 'complete');
    assert.equal(sha256(client.bytes()), sha256(file), 'no byte lost or duplicated across the holds');
  } finally {
    client.close();
  }
  await noPeersLeft();
});

test('window without windowEnd in the offer turns flow control on; with a preview the window holds the stream after start', async () => {
  // deferStart, so the window provably lands before the first chunk is due: the channel is ordered.
  const client = new TestClient(server.url, { src: 'long.mp3', deferStart: true, timeoutMs: 60_000 });
  try {
    await client.connect();
    await client.until(() => client.result.metadata !== undefined);
    client.send({ type: 'window', end: 2 * MAX_CHUNK_SIZE });
    client.send({ type: 'start' });
    await client.until(() => client.result.chunks.length >= 2);
    await sleep(800); // 8 pacing intervals
    assert.equal(received(client), 2 * MAX_CHUNK_SIZE);
    client.send({ type: 'window', end: SIZE });
    assert.equal((await client.done).ended, 'complete');
    assert.equal(sha256(client.bytes()), sha256(file));
  } finally {
    client.close();
  }
  const previewed = new TestClient(server.url, {
    src: 'long.mp3',
    deferStart: true,
    preloadBytes: 2 * MAX_CHUNK_SIZE,
    windowEnd: 5 * MAX_CHUNK_SIZE,
    timeoutMs: 60_000,
  });
  try {
    await previewed.connect();
    await previewed.until(() => previewed.result.chunks.length >= 2);
    previewed.send({ type: 'start' });
    await previewed.until(() => previewed.result.chunks.length >= 5);
    await sleep(800);
    assert.equal(received(previewed), 5 * MAX_CHUNK_SIZE, 'preview and stream together stop at the window');
    previewed.send({ type: 'window', end: SIZE + 1 }); // past the end: simply everything
    assert.equal((await previewed.done).ended, 'complete');
    assert.equal(sha256(previewed.bytes()), sha256(file));
  } finally {
    previewed.close();
  }
  await noPeersLeft();
});

test('several pauses and resumes in quick succession (a flapping client) lose and repeat nothing', async () => {
  const client = new TestClient(server.url, { src: 'long.mp3', timeoutMs: 60_000 });
  try {
    await client.connect();
    await client.until(() => client.result.metadata !== undefined);
    for (let i = 0; i < 20; i++) {
      client.send({ type: i % 2 === 0 ? 'pause' : 'resume' });
      await sleep(i % 3 === 0 ? 0 : 37);
    }
    const result = await client.done;
    assert.equal(result.ended, 'complete');
    assert.equal(sha256(client.bytes()), sha256(file));
  } finally {
    client.close();
  }
  await noPeersLeft();
});

test('pause before start on a deferStart channel: start begins nothing until resume', async () => {
  const client = new TestClient(server.url, { src: 'long.mp3', deferStart: true, timeoutMs: 60_000 });
  try {
    await client.connect();
    await client.until(() => client.result.metadata !== undefined);
    client.send({ type: 'pause' });
    client.send({ type: 'start', offset: 100 });
    await sleep(500);
    assert.equal(client.result.chunks.length, 0);
    client.send({ type: 'resume' });
    const result = await client.done;
    assert.equal(result.ended, 'complete');
    assert.equal(sha256(client.bytes()), sha256(file.subarray(100)));
  } finally {
    client.close();
  }
  await noPeersLeft();
});

for (const hold of ['pause', 'window'] as const) {
  test(`a stream held by ${hold === 'pause' ? 'a pause' : 'its window'} longer than PAUSED_IDLE_MS ends with the retryable IDLE_TIMEOUT and frees its peer`, async () => {
    const quick = await startTestServer({ AUDIO_DIR: lib.dir, PACE_CHUNKS_PER_SECOND: String(PACE), BURST_BYTES: '0', PAUSED_IDLE_MS: '2000' });
    const client = new TestClient(quick.url, { src: 'long.mp3', timeoutMs: 20_000, ...(hold === 'window' ? { windowEnd: 1 } : {}) });
    try {
      await client.connect();
      await client.until(() => client.result.chunks.length >= 1);
      if (hold === 'pause') client.send({ type: 'pause' });
      const started = Date.now();
      const result = await client.done;
      assert.equal(result.ended, 'error');
      const last = result.messages.at(-1);
      assert.equal(last?.type === 'error' ? last.code : last?.type, 'IDLE_TIMEOUT');
      assert.ok(Date.now() - started >= 1500, 'not before the configured time');
      assert.ok(received(client) < SIZE);
      // What arrived is a prefix of the file: a reconnect at this offset continues it.
      assert.equal(sha256(client.bytes()), sha256(file.subarray(0, received(client))));
      client.close();
      const deadline = Date.now() + 5000;
      while (quick.peers.activePeers > 0) {
        assert.ok(Date.now() < deadline, 'the timed-out peer was closed');
        await sleep(20);
      }
    } finally {
      client.close();
      await quick.close();
    }
  });
}

test('hostile flow-control messages get BAD_MESSAGE and no more bytes', async () => {
  for (const hostile of [
    '{"type":"resume","offset":0}',
    '{"type":"PAUSE"}',
    '["pause"]',
    'pause',
    '{"type":"pause","x":1}',
    '{"type":"window"}',
    '{"type":"window","end":-65536}',
    '{"type":"window","end":"all"}',
  ]) {
    const client = new TestClient(server.url, { src: 'long.mp3', timeoutMs: 10_000 });
    try {
      await client.connect();
      await client.until(() => client.result.chunks.length >= 1);
      client.send(hostile);
      const result = await client.done;
      assert.equal(result.ended, 'error', hostile);
      const last = result.messages.at(-1);
      assert.equal(last?.type === 'error' ? last.code : last?.type, 'BAD_MESSAGE', hostile);
      assert.ok(received(client) < SIZE, hostile);
    } finally {
      client.close();
    }
  }
  // A binary message is no flow-control message either.
  const binary = new TestClient(server.url, { src: 'long.mp3', timeoutMs: 10_000 });
  try {
    await binary.connect();
    await binary.until(() => binary.result.chunks.length >= 1);
    binary.channel.send(new Uint8Array([123, 34]));
    const result = await binary.done;
    const last = result.messages.at(-1);
    assert.equal(last?.type === 'error' ? last.code : last?.type, 'BAD_MESSAGE');
  } finally {
    binary.close();
  }
  await noPeersLeft();
});

test('a client that never sends flow control gets the whole stream as before', async () => {
  const client = new TestClient(server.url, { src: 'tiny.mp3' });
  try {
    const result = await client.stream();
    assert.equal(result.ended, 'complete');
    assert.equal(client.bytes().byteLength, 1000);
  } finally {
    client.close();
  }
  await noPeersLeft();
});
