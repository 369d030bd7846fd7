/**
 * One stream of one file over one open DataChannel: metadata, then the file's bytes from
 * `offset` in chunks (flow-controlled, paced after a start-up burst), then `complete` — or a
 * typed `error`. It owns the file handle and nothing else: when it is over it calls `onEnd` and
 * the peer that owns the channel decides how to close.
 */
import { readSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import {
  encodeMessage,
  HIGH_WATER_MARK,
  parseClientMessage,
  totalChunksOf,
  type MetadataMessage,
  type ServerMessage,
  type StreamErrorCode,
} from '../../components/protocol';
import type { AudioFile } from '../library/audio-library';
import { chunkPool } from './chunk-pool';
import { delay, FlowControlTimeout, waitForRoom, type BufferedChannel } from './flow-control';
import { pacingDelay, type PacingConfig } from './pacer';

export interface SessionChannel extends BufferedChannel {
  send(data: string | Uint8Array): void;
}

/** Test-only faults (RTC_TEST_HOOKS): cut or freeze this stream after so many bytes. */
export interface StreamFaults {
  closeAfterBytes?: number;
  stallAfterBytes?: number;
}

/**
 * Why a session ended. `complete`: all bytes and `complete` were sent and drained; `error`: a
 * stream error was sent; `send-failed`: the channel refused a message (it is closing);
 * `fault`: the closeAfterBytes test fault.
 */
export type SessionEnd = 'complete' | 'error' | 'send-failed' | 'fault';

export interface StreamSessionOptions {
  channel: SessionChannel;
  file: AudioFile;
  offset: number;
  chunkSize: number;
  deferStart: boolean;
  pacing: PacingConfig;
  /** Seconds, if known when the channel opens. */
  duration: () => number | undefined;
  /** A deferred channel that gets no `start` within this is ended with IDLE_TIMEOUT. */
  deferStartIdleMs: number;
  /** Longest wait for the send buffer to drain before the peer is presumed dead. */
  drainTimeoutMs?: number;
  faults?: StreamFaults;
  onEnd(reason: SessionEnd, code?: StreamErrorCode): void;
}

type ReadResult = { bytes: Uint8Array } | { error: unknown };

export class StreamSession {
  private handle: FileHandle | undefined;
  private size = 0;
  private stopped = false;
  /** Set by stop(): the owner is closing the channel, so nothing may touch it any more. */
  private detached = false;
  /** Byte the chunk stream started from, once started. */
  private startedFrom: number | undefined;
  private ended = false;
  private bytesSent = 0;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: StreamSessionOptions) {}

  /** The channel opened: open the file, send metadata and (unless deferred) start streaming. */
  async open(): Promise<void> {
    const { file, offset } = this.options;
    try {
      const handle = await open(file.path, 'r');
      if (this.stopped) {
        // stop() ran while the file was opening (the client left at once): it had no handle to
        // close, so close this one here or its descriptor lingers until GC.
        await handle.close().catch(() => undefined);
        return;
      }
      this.handle = handle;
      this.size = (await handle.stat()).size;
    } catch {
      return this.fail('FILE_UNAVAILABLE', 'the file is no longer available');
    }
    if (this.stopped) return;
    if (this.size === 0 || offset >= this.size) return this.fail('FILE_CHANGED', 'the file changed since the offer');
    const metadata: MetadataMessage = {
      type: 'metadata',
      src: file.src,
      totalSize: this.size,
      totalChunks: totalChunksOf(this.size, this.options.chunkSize),
      chunkSize: this.options.chunkSize,
      mimeType: file.mimeType,
      offset,
    };
    const duration = this.options.duration();
    if (duration !== undefined) metadata.duration = duration;
    if (!this.send(encodeMessage(metadata))) return;
    if (!this.options.deferStart) return this.begin(offset);
    this.idleTimer = setTimeout(() => {
      if (this.startedFrom === undefined) void this.fail('IDLE_TIMEOUT', 'no "start" arrived in time');
    }, this.options.deferStartIdleMs);
  }

  /** A message from the client: only `start` on a deferred channel is meaningful. */
  message(data: unknown): void {
    if (this.stopped) return;
    if (typeof data !== 'string') return void this.fail('BAD_MESSAGE', 'the server expects text messages only');
    let requested: number | undefined;
    try {
      requested = parseClientMessage(data).offset;
    } catch (error) {
      return void this.fail('BAD_MESSAGE', error instanceof Error ? error.message : 'unreadable message');
    }
    if (this.startedFrom !== undefined) {
      // A repeated start (a double click racing the first) is harmless; another offset is not.
      if (requested === undefined || requested === this.startedFrom) return;
      return void this.fail('BAD_MESSAGE', 'the stream has already started');
    }
    if (this.handle === undefined) return void this.fail('BAD_MESSAGE', '"start" before metadata');
    const offset = requested ?? this.options.offset;
    if (offset >= this.size) return void this.fail('BAD_MESSAGE', `start offset must be below ${this.size}`);
    this.begin(offset);
  }

  /** Stops sending and releases the file; safe to call at any time, more than once. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.detached = true;
    clearTimeout(this.idleTimer);
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close().catch(() => undefined);
  }

  /** Sends a stream error (best effort) and ends the session. */
  async fail(code: StreamErrorCode, message: string): Promise<void> {
    if (this.ended) return;
    this.stopped = true;
    if (this.send(encodeMessage({ type: 'error', code, message } satisfies ServerMessage))) await this.drain(1000);
    this.end('error', code);
  }

  get sentBytes(): number {
    return this.bytesSent;
  }

  private begin(offset: number): void {
    this.startedFrom = offset;
    clearTimeout(this.idleTimer);
    this.run(offset).catch(() => this.fail('READ_FAILED', 'streaming failed'));
  }

  private async run(offset: number): Promise<void> {
    const { chunkSize, pacing, faults } = this.options;
    const startedAt = performance.now();
    let lastSentAt = startedAt;
    let position = offset;
    const waitBefore = (bytesSent: number, bytes: number) => pacingDelay(pacing, { bytesSent, startedAt, lastSentAt }, bytes, performance.now());
    // The next chunk, read while the current one waited for room: only while the stream is unpaced.
    let pending: Promise<ReadResult> | undefined;
    while (position < this.size) {
      const expected = Math.min(chunkSize, this.size - position);
      const wait = waitBefore(this.bytesSent, expected);
      if (wait > 0) await delay(wait);
      if (this.stopped) return;
      // A paced chunk is read when its slot has come, not seconds ahead: hundreds of listeners
      // would otherwise each hold a chunk's buffer, and a 64 KiB read from the page cache costs
      // less than a trip through the thread pool and a second wake-up of the event loop.
      const result = pending !== undefined ? await pending : wait > 0 ? this.readNow(position) : await this.read(position);
      pending = undefined;
      if (this.stopped) return;
      if ('error' in result) return this.fail('READ_FAILED', 'reading the file failed');
      if (result.bytes.byteLength < expected) return this.fail('FILE_CHANGED', 'the file shrank while streaming');
      const next = position + expected;
      // Read ahead while this chunk waits for room, when the next one will not wait for its slot.
      if (next < this.size && waitBefore(this.bytesSent + expected, Math.min(chunkSize, this.size - next)) === 0) pending = this.read(next);
      try {
        const room = await waitForRoom(this.options.channel, expected, HIGH_WATER_MARK, () => this.stopped, this.drainTimeoutMs());
        if (!room) return this.stopped ? undefined : this.end('send-failed');
      } catch (error) {
        if (error instanceof FlowControlTimeout) return this.end('send-failed');
        throw error;
      }
      if (!this.send(result.bytes)) return;
      // wrtc copied the bytes in send(): the buffer can serve the next chunk of any session.
      chunkPool.release(result.bytes);
      lastSentAt = performance.now();
      this.bytesSent += expected;
      position = next;
      if (faults?.closeAfterBytes !== undefined && this.bytesSent >= faults.closeAfterBytes) {
        // Let what was sent arrive, so the client holds at least closeAfterBytes: deterministic tests.
        await this.drain(1000);
        return this.end('fault');
      }
      if (faults?.stallAfterBytes !== undefined && this.bytesSent >= faults.stallAfterBytes) {
        this.stopped = true; // keep the channel open, send nothing more
        return;
      }
      // Yield to the event loop between sends even when the read was instant.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    if (this.stopped) return;
    if (!this.send(encodeMessage({ type: 'complete' }))) return;
    await this.drain(this.drainTimeoutMs());
    this.stopped = true;
    this.end('complete');
  }

  /** Reads the chunk at `position` through the thread pool (unpaced streams overlap it with sending). */
  private read(position: number): Promise<ReadResult> {
    const handle = this.handle;
    if (handle === undefined) return Promise.resolve({ error: new Error('file closed') });
    const bytes = chunkPool.acquire(Math.min(this.options.chunkSize, this.size - position));
    return handle.read(bytes, 0, bytes.byteLength, position).then(
      ({ bytesRead }) => ({ bytes: bytesRead === bytes.byteLength ? bytes : bytes.subarray(0, bytesRead) }),
      (error: unknown) => ({ error }),
    );
  }

  /** Reads the chunk at `position` on this thread (a paced chunk whose slot has come). */
  private readNow(position: number): ReadResult {
    const handle = this.handle;
    if (handle === undefined) return { error: new Error('file closed') };
    const bytes = chunkPool.acquire(Math.min(this.options.chunkSize, this.size - position));
    try {
      const bytesRead = readSync(handle.fd, bytes, 0, bytes.byteLength, position);
      return { bytes: bytesRead === bytes.byteLength ? bytes : bytes.subarray(0, bytesRead) };
    } catch (error) {
      return { error };
    }
  }

  private send(data: string | Uint8Array): boolean {
    if (this.ended || this.detached) return false;
    try {
      if (this.options.channel.readyState !== 'open') throw new Error('channel not open');
      this.options.channel.send(data);
      return true;
    } catch {
      this.stopped = true;
      this.end('send-failed');
      return false;
    }
  }

  private async drain(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.detached && this.options.channel.readyState === 'open' && this.options.channel.bufferedAmount > 0 && Date.now() < deadline) {
      await delay(10);
    }
  }

  private drainTimeoutMs(): number {
    return this.options.drainTimeoutMs ?? 20_000;
  }

  private end(reason: SessionEnd, code?: StreamErrorCode): void {
    if (this.ended) return;
    this.ended = true;
    this.options.onEnd(reason, code);
  }
}
