/**
 * Streaming end to end with real @roamhq/wrtc client peers against the real app: byte-exact
 * delivery, chunk boundaries, negotiated chunk size, offset resume, deferred start, concurrent
 * listeners, and the server's own faults (file changed or vanished, bad client message).
 */
import assert from 'node:assert/strict';
import { rm, truncate } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { MAX_CHUNK_SIZE, totalChunksOf } from '../components/protocol';
import { fakeMp3, sha256, tempLibrary, type TempLibrary } from './testing/fixtures';
import { startTestServer, type TestServer } from './testing/in-process-server';
import { streamTrack, TestClient, type StreamResult } from './testing/wrtc-client';
import { FIRST_PREVIEW_MESSAGE_BYTES } from './streaming/stream-session';

let lib: TempLibrary;
let server: TestServer;
const files = new Map<string, Buffer>();

before(async () => {
  lib = await tempLibrary();
  for (const size of [1, 1000, 65535, 65536, 65537, 131072, 300_000]) {
    const bytes = fakeMp3(size === 1 ? 4 : size);
    files.set(`s${size}.mp3`, bytes);
    await lib.write(`s${size}.mp3`, bytes);
  }
  server = await startTestServer({ AUDIO_DIR: lib.dir, PACE_CHUNKS_PER_SECOND: '0', DEFER_START_IDLE_MS: '400' });
});

after(async () => {
  await server.close();
  await lib.remove();
});

async function noPeersLeft(target = server): Promise<void> {
  const deadline = Date.now() + 5000;
  while (target.peers.activePeers > 0) {
    assert.ok(Date.now() < deadline, `${target.peers.activePeers} peers still open`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function assertWellFormed(result: StreamResult, src: string, chunkSize: number, offset = 0): Buffer {
  const file = files.get(src)!;
  assert.equal(result.ended, 'complete');
  assert.equal(result.order[0], 'text', 'metadata comes first');
  assert.equal(result.order.at(-1), 'text', 'complete comes last');
  assert.equal(result.order.filter((kind) => kind === 'text').length, 2);
  assert.deepEqual(result.metadata, {
    type: 'metadata',
    src,
    totalSize: file.length,
    totalChunks: totalChunksOf(file.length, chunkSize),
    chunkSize,
    mimeType: 'audio/mpeg',
    offset,
    ...(result.metadata?.duration !== undefined ? { duration: result.metadata.duration } : {}),
  });
  assert.deepEqual(result.messages.at(-1), { type: 'complete' });
  for (const chunk of result.chunks.slice(0, -1)) assert.equal(chunk.byteLength, chunkSize);
  assert.ok(result.chunks.at(-1)!.byteLength <= chunkSize);
  return Buffer.concat(result.chunks);
}

test('a whole file arrives byte-exact: metadata first, chunks, complete last', async () => {
  const { result } = await streamTrack(server.url, { src: 's300000.mp3' });
  const bytes = assertWellFormed(result, 's300000.mp3', MAX_CHUNK_SIZE);
  assert.equal(sha256(bytes), sha256(files.get('s300000.mp3')!));
  await noPeersLeft();
});

test('files at chunk boundaries (65535, 65536, 65537, 131072 bytes) and tiny files', async () => {
  for (const size of [4, 1000, 65535, 65536, 65537, 131072]) {
    const src = `s${size === 4 ? 1 : size}.mp3`;
    const { result } = await streamTrack(server.url, { src });
    const bytes = assertWellFormed(result, src, MAX_CHUNK_SIZE);
    assert.equal(result.chunks.length, Math.ceil(files.get(src)!.length / MAX_CHUNK_SIZE), src);
    assert.equal(sha256(bytes), sha256(files.get(src)!), src);
  }
  await noPeersLeft();
});

test('a smaller a=max-message-size in the offer makes the server send smaller chunks', async () => {
  for (const maxMessageSize of [16384, 1000]) {
    const { result } = await streamTrack(server.url, { src: 's131072.mp3', maxMessageSize });
    const bytes = assertWellFormed(result, 's131072.mp3', maxMessageSize);
    assert.equal(sha256(bytes), sha256(files.get('s131072.mp3')!));
  }
  await noPeersLeft();
});

test('offset resume: the first chunk starts at exactly that byte, totals describe the whole file', async () => {
  const file = files.get('s300000.mp3')!;
  for (const offset of [1, 65536, 100_001, file.length - 1]) {
    const { result } = await streamTrack(server.url, { src: 's300000.mp3', offset });
    const bytes = assertWellFormed(result, 's300000.mp3', MAX_CHUNK_SIZE, offset);
    assert.equal(sha256(bytes), sha256(file.subarray(offset)), `offset ${offset}`);
  }
  await noPeersLeft();
});

test('unpaced, flow control alone keeps a 4 MiB stream intact (a synchronous burst would lose data)', async () => {
  const big = fakeMp3(4 * 1024 * 1024);
  files.set('big.mp3', big);
  await lib.write('big.mp3', big);
  const { client, result } = await streamTrack(server.url, { src: 'big.mp3', timeoutMs: 60_000 });
  assert.equal(result.ended, 'complete');
  assert.equal(sha256(client.bytes()), sha256(big));
  await noPeersLeft();
});

test('after the start-up burst the stream is paced (PACE_CHUNKS_PER_SECOND)', async () => {
  const paced = await startTestServer({ AUDIO_DIR: lib.dir, PACE_CHUNKS_PER_SECOND: '5', BURST_BYTES: '65536', BURST_MS: '10000' });
  try {
    // 300000 bytes = 5 chunks: 1 in the burst, then 3 full chunks 200 ms apart and the last
    // (37856 bytes, paced by bytes) 116 ms after: at least 716 ms from first chunk to complete
    // (the bound below leaves room for a late first chunk on a busy machine).
    const { client, result } = await streamTrack(paced.url, { src: 's300000.mp3' });
    assert.equal(result.ended, 'complete');
    const spread = client.timing.end! - client.timing.firstChunk!;
    assert.ok(spread >= 450, `5 chunks arrived within ${spread.toFixed(0)} ms: not paced`);
    assert.equal(sha256(client.bytes()), sha256(files.get('s300000.mp3')!));
    await noPeersLeft(paced);
  } finally {
    await paced.close();
  }
});

test('deferStart: metadata on open, no bytes until start, then the stream from the requested offset', async () => {
  const client = new TestClient(server.url, { src: 's300000.mp3', deferStart: true });
  try {
    await client.connect();
    await client.until(() => client.result.metadata !== undefined);
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.equal(client.result.chunks.length, 0, 'no chunk before start');
    client.send({ type: 'start', offset: 5000 });
    client.send({ type: 'start', offset: 5000 }); // a repeated start is harmless
    client.send({ type: 'start' });
    const result = await client.done;
    assert.equal(result.ended, 'complete');
    assert.equal(sha256(client.bytes()), sha256(files.get('s300000.mp3')!.subarray(5000)));
  } finally {
    client.close();
  }
  await noPeersLeft();
});

test('preloadBytes: metadata, the preview, nothing more until start, then the rest after the preview', async () => {
  const client = new TestClient(server.url, { src: 's300000.mp3', deferStart: true, preloadBytes: 100_000 });
  try {
    await client.connect();
    await client.until(() => client.bytes().length >= 100_000);
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.equal(client.result.metadata?.preloadBytes, 100_000);
    assert.equal(client.bytes().length, 100_000, 'only the preview before start');
    // The preview's first message is small (it fits a fresh association's first congestion window).
    const preview = [FIRST_PREVIEW_MESSAGE_BYTES, MAX_CHUNK_SIZE, 100_000 - FIRST_PREVIEW_MESSAGE_BYTES - MAX_CHUNK_SIZE];
    assert.deepEqual(client.result.chunks.map((chunk) => chunk.byteLength), preview);
    client.send({ type: 'start' });
    client.send({ type: 'start' }); // a repeated start is harmless
    const result = await client.done;
    assert.equal(result.ended, 'complete');
    // After the preview, the stream proper: chunkSize messages, the last shorter.
    const rest = 300_000 - 100_000;
    const stream = [...Array<number>(Math.floor(rest / MAX_CHUNK_SIZE)).fill(MAX_CHUNK_SIZE), rest % MAX_CHUNK_SIZE];
    assert.deepEqual(client.result.chunks.map((chunk) => chunk.byteLength), [...preview, ...stream]);
    assert.equal(sha256(client.bytes()), sha256(files.get('s300000.mp3')!));
  } finally {
    client.close();
  }
  await noPeersLeft();
});

test('preloadBytes: a start sent at once still gets the preview first, then the rest, in order', async () => {
  const client = new TestClient(server.url, { src: 's300000.mp3', deferStart: true, preloadBytes: 200_000, offset: 1000 });
  try {
    await client.connect();
    await client.until(() => client.result.metadata !== undefined);
    client.send({ type: 'start' });
    const result = await client.done;
    assert.equal(result.ended, 'complete');
    assert.equal(result.metadata?.preloadBytes, 200_000);
    assert.equal(sha256(client.bytes()), sha256(files.get('s300000.mp3')!.subarray(1000)));
  } finally {
    client.close();
  }
  await noPeersLeft();
});

test('preloadBytes beyond the end of the file: the preview is the whole file, then complete without a start', async () => {
  const client = new TestClient(server.url, { src: 's1000.mp3', deferStart: true, preloadBytes: 65536 });
  try {
    await client.connect();
    const result = await client.done;
    assert.equal(result.ended, 'complete');
    assert.equal(result.metadata?.preloadBytes, 1000);
    assert.equal(sha256(client.bytes()), sha256(files.get('s1000.mp3')!));
  } finally {
    client.close();
  }
  await noPeersLeft();
});

test('deferStart without a start in time ends with IDLE_TIMEOUT; a bad message with BAD_MESSAGE', async () => {
  const idle = new TestClient(server.url, { src: 's1000.mp3', deferStart: true });
  const bad = new TestClient(server.url, { src: 's1000.mp3', deferStart: true });
  try {
    await Promise.all([idle.connect(), bad.connect()]);
    await bad.until(() => bad.result.metadata !== undefined);
    bad.send('{"type":"seek","to":12}');
    const [idleResult, badResult] = await Promise.all([idle.done, bad.done]);
    assert.equal(idleResult.ended, 'error');
    assert.equal(badResult.ended, 'error');
    assert.deepEqual(
      [idleResult.messages.at(-1), badResult.messages.at(-1)].map((m) => (m?.type === 'error' ? m.code : m?.type)),
      ['IDLE_TIMEOUT', 'BAD_MESSAGE'],
    );
    assert.equal(badResult.chunks.length, 0);
  } finally {
    idle.close();
    bad.close();
  }
  await noPeersLeft();
});

test('20 concurrent listeners of one track all get it byte-exact', async () => {
  const results = await Promise.all(Array.from({ length: 20 }, () => streamTrack(server.url, { src: 's300000.mp3', timeoutMs: 30_000 })));
  for (const { client, result } of results) {
    assert.equal(result.ended, 'complete');
    assert.equal(sha256(client.bytes()), sha256(files.get('s300000.mp3')!));
  }
  await noPeersLeft();
});

test('truncated on disk mid-stream → FILE_CHANGED; removed after the answer → still streamed whole (opened with the answer)', async () => {
  const paced = await startTestServer({ AUDIO_DIR: lib.dir, PACE_CHUNKS_PER_SECOND: '10', BURST_BYTES: '65536' });
  try {
    const victim = await lib.write('victim.mp3', fakeMp3(2_000_000));
    const client = new TestClient(paced.url, { src: 'victim.mp3' });
    await client.connect();
    await client.until(() => client.result.chunks.length >= 1);
    await truncate(victim, 150_000);
    const result = await client.done;
    client.close();
    assert.equal(result.ended, 'error');
    const last = result.messages.at(-1);
    assert.equal(last?.type === 'error' ? last.code : last?.type, 'FILE_CHANGED');
    assert.ok(client.bytes().length <= 2_000_000);

    // The peer opens the file once its answer is ready (the first chunk must not wait for the
    // file system when the channel opens): a file removed after that is the file the offer was
    // accepted for, and an open file outlives its name. A file that cannot be opened then is
    // FILE_UNAVAILABLE (server/streaming/stream-session.node.test.ts).
    const bytes = fakeMp3(50_000);
    const doomed = await lib.write('doomed.mp3', bytes);
    const late = new TestClient(paced.url, { src: 'doomed.mp3', beforeAnswer: () => rm(doomed) });
    const vanished = await late.stream();
    late.close();
    assert.equal(vanished.ended, 'complete');
    assert.equal(sha256(late.bytes()), sha256(bytes));
    await noPeersLeft(paced);
  } finally {
    await paced.close();
  }
});

test('a client that closes mid-stream, or never opens its channel, leaves no peer behind', async () => {
  const quick = await startTestServer({ AUDIO_DIR: lib.dir, PACE_CHUNKS_PER_SECOND: '5', BURST_BYTES: '0', CHANNEL_OPEN_TIMEOUT_MS: '300' });
  try {
    const leaver = new TestClient(quick.url, { src: 's300000.mp3' });
    await leaver.connect();
    await leaver.until(() => leaver.result.chunks.length >= 1);
    leaver.close();
    const ghost: TestClient = new TestClient(quick.url, { src: 's1000.mp3', beforeAnswer: async (): Promise<void> => ghost.close() });
    await ghost.connect().catch(() => undefined);
    await noPeersLeft(quick);
    assert.ok((quick.peers.stats().closeReasons['open-timeout'] ?? 0) >= 1);
  } finally {
    await quick.close();
  }
});
