/**
 * StreamSession over an in-memory channel (no WebRTC): the file opened ahead of the channel
 * (prepareStreamFile) and its read-ahead first message. The end-to-end behaviour over real wrtc
 * peers is in server/streaming.node.test.ts.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { parseServerMessage, type ServerMessage } from '../../components/protocol';
import type { AudioFile } from '../library/audio-library';
import { fakeMp3, tempLibrary, type TempLibrary } from '../testing/fixtures';
import { FIRST_PREVIEW_MESSAGE_BYTES, firstMessageBytes, prepareStreamFile, StreamSession, type SessionEnd } from './stream-session';

let lib: TempLibrary;
before(async () => {
  lib = await tempLibrary();
});
after(() => lib.remove());

/** A channel that takes every message at once (never buffers). */
class MemoryChannel {
  readonly readyState = 'open';
  readonly bufferedAmount = 0;
  readonly texts: ServerMessage[] = [];
  readonly binary: Uint8Array[] = [];
  readonly order: ('text' | 'binary')[] = [];
  send(data: string | Uint8Array): void {
    if (typeof data === 'string') {
      this.texts.push(parseServerMessage(data));
      this.order.push('text');
    } else {
      this.binary.push(Uint8Array.from(data)); // wrtc copies in send(): so do we
      this.order.push('binary');
    }
  }
  bytes(): Buffer {
    return Buffer.concat(this.binary);
  }
}

function audioFile(path: string, size: number): AudioFile {
  return { src: 'x.mp3', path, size, mtimeMs: 0, mimeType: 'audio/mpeg' };
}

function session(channel: MemoryChannel, file: AudioFile, options: Partial<ConstructorParameters<typeof StreamSession>[0]> = {}) {
  let resolveEnd!: (reason: SessionEnd) => void;
  const ended = new Promise<SessionEnd>((resolve) => (resolveEnd = resolve));
  const created = new StreamSession({
    channel,
    file,
    offset: 0,
    chunkSize: 65536,
    deferStart: false,
    pacing: { chunksPerSecond: 0, burstBytes: 0, burstMs: 0 },
    duration: () => undefined,
    deferStartIdleMs: 10_000,
    onEnd: (reason) => resolveEnd(reason),
    ...options,
  });
  return { session: created, ended };
}

test('a prepared file streams byte-exact: its read-ahead head is the first message, the rest follows', async () => {
  const bytes = fakeMp3(200_000);
  const path = await lib.write('whole.mp3', bytes);
  const channel = new MemoryChannel();
  const prepared = prepareStreamFile(path, 0, 65536);
  const { head } = await prepared;
  assert.deepEqual(Buffer.from(head!.bytes), bytes.subarray(0, 65536));
  const { session: stream, ended } = session(channel, audioFile(path, bytes.length), { prepared });
  await stream.open();
  assert.equal(await ended, 'complete');
  assert.deepEqual(channel.bytes(), bytes);
  assert.deepEqual(channel.binary.map((chunk) => chunk.byteLength), [65536, 65536, 65536, 200_000 - 3 * 65536]);
  assert.deepEqual(channel.texts.at(-1), { type: 'complete' });
  await stream.stop();
});

test('a preview from an offset starts with its small first message, read ahead', async () => {
  const bytes = fakeMp3(300_000);
  const path = await lib.write('preview.mp3', bytes);
  const offset = 1000;
  const headBytes = firstMessageBytes({ chunkSize: 65536, deferStart: true, preloadBytes: 65536 });
  assert.equal(headBytes, FIRST_PREVIEW_MESSAGE_BYTES);
  const prepared = prepareStreamFile(path, offset, headBytes);
  assert.equal((await prepared).head!.offset, offset);
  const channel = new MemoryChannel();
  const { session: stream } = session(channel, audioFile(path, bytes.length), { prepared, offset, deferStart: true, preloadBytes: 65536 });
  await stream.open();
  while (channel.bytes().length < 65536) await new Promise((resolve) => setImmediate(resolve));
  assert.equal(channel.binary[0]!.byteLength, FIRST_PREVIEW_MESSAGE_BYTES);
  assert.deepEqual(channel.bytes(), bytes.subarray(offset, offset + 65536));
  await stream.stop();
});

test('a read-ahead head that is not the first chunk (a smaller negotiated chunk size) is not sent', async () => {
  const bytes = fakeMp3(100_000);
  const path = await lib.write('smaller.mp3', bytes);
  const channel = new MemoryChannel();
  const prepared = prepareStreamFile(path, 0, 65536);
  const { session: stream, ended } = session(channel, audioFile(path, bytes.length), { prepared, chunkSize: 16384 });
  await stream.open();
  assert.equal(await ended, 'complete');
  assert.deepEqual(channel.bytes(), bytes);
  assert.ok(channel.binary.every((chunk) => chunk.byteLength <= 16384));
  await stream.stop();
});

test('a file that could not be prepared (gone) is FILE_UNAVAILABLE, no chunk sent', async () => {
  const path = await lib.write('gone.mp3', fakeMp3(10_000));
  await rm(path);
  const prepared = prepareStreamFile(path, 0, 65536);
  await assert.rejects(prepared, { code: 'ENOENT' });
  const channel = new MemoryChannel();
  const { session: stream, ended } = session(channel, audioFile(path, 10_000), { prepared });
  await stream.open();
  assert.equal(await ended, 'error');
  assert.deepEqual(channel.order, ['text']);
  const message = channel.texts[0]!;
  assert.equal(message.type === 'error' ? message.code : message.type, 'FILE_UNAVAILABLE');
});

test('prepareStreamFile reads no head at or past the end, nor when none is asked for', async () => {
  const path = await lib.write('small.mp3', fakeMp3(5000));
  for (const [offset, headBytes] of [[5000, 65536], [0, 0]] as const) {
    const prepared = await prepareStreamFile(path, offset, headBytes);
    assert.equal(prepared.size, 5000);
    assert.equal(prepared.head, undefined);
    await prepared.handle.close();
  }
  const short = await prepareStreamFile(path, 4000, 65536);
  assert.equal(short.head!.bytes.byteLength, 1000);
  await short.handle.close();
  assert.equal(firstMessageBytes({ chunkSize: 65536, deferStart: true, preloadBytes: 0 }), 0, 'a deferred stream without preview: start decides');
  assert.equal(firstMessageBytes({ chunkSize: 16384, deferStart: false, preloadBytes: 0 }), 16384);
});
