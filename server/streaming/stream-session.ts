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
  type ClientMessage,
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
  /** With deferStart: bytes from `offset` sent right after the metadata, before `start` (the preview). */
  preloadBytes?: number;
  pacing: PacingConfig;
  /** Seconds, if known when the channel opens. */
  duration: () => number | undefined;
  /** A deferred channel that gets no `start` within this is ended with IDLE_TIMEOUT. */
  deferStartIdleMs: number;
  /** Flow control: the offer's `windowEnd` (no chunk begins at or after it until raised). */
  windowEnd?: number;
  /**
   * A stream held by the client's flow control (paused, or its window used up) for this long is
   * ended with IDLE_TIMEOUT, so an idle listener does not hold a peer slot forever; it reconnects
   * at its next byte when it needs data. Default 120 s.
   */
  pausedIdleMs?: number;
  /** Longest wait for the send buffer to drain before the peer is presumed dead. */
  drainTimeoutMs?: number;
  faults?: StreamFaults;
  /**
   * The file opened (and its first message read) while the peer was still negotiating (see
   * {@link prepareStreamFile}); the session owns its handle from here on. Default: opened when
   * the channel opens.
   */
  prepared?: Promise<PreparedFile>;
  onEnd(reason: SessionEnd, code?: StreamErrorCode): void;
}

/** An open file handle for one stream, with its size and the bytes of its first message. */
export interface PreparedFile {
  handle: FileHandle;
  size: number;
  /** The file's bytes [offset, offset + head.byteLength), read ahead (a chunk pool buffer); undefined if none were asked for. */
  head: { offset: number; bytes: Uint8Array } | undefined;
}

/**
 * Opens `path` and reads `headBytes` from `offset`: the thread-pool trips a stream's first
 * message needs (open, stat, read), done while the peer negotiates instead of after the channel
 * opened, where each was on the path to the first chunk. The caller owns the handle.
 */
export async function prepareStreamFile(path: string, offset: number, headBytes: number): Promise<PreparedFile> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const length = Math.min(headBytes, size - offset);
    if (length <= 0) return { handle, size, head: undefined };
    const bytes = chunkPool.acquire(length);
    const { bytesRead } = await handle.read(bytes, 0, length, offset);
    return { handle, size, head: { offset, bytes: bytes.subarray(0, bytesRead) } };
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error;
  }
}

/** Bytes of the first message a stream from `offset` sends (what {@link prepareStreamFile} reads ahead). */
export function firstMessageBytes(options: { chunkSize: number; deferStart: boolean; preloadBytes: number }): number {
  if (!options.deferStart) return options.chunkSize;
  // A deferred stream's first message is its preview's (without a preview: wherever `start` says).
  return options.preloadBytes > 0 ? Math.min(options.preloadBytes, FIRST_PREVIEW_MESSAGE_BYTES, options.chunkSize) : 0;
}

type ReadResult = { bytes: Uint8Array } | { error: unknown };

/** Size of a preview's first message (see sendPreview). */
export const FIRST_PREVIEW_MESSAGE_BYTES = 8 * 1024;

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
  private metadataSent = false;
  /** The client asked for a pause (flow control): the run loop holds its next chunk. */
  private paused = false;
  /** The client's flow-control window: no chunk begins at or after this byte. Undefined: none. */
  private windowEnd: number | undefined;
  /** Runs while the run loop is held by flow control; IDLE_TIMEOUT when it fires. */
  private heldTimer: NodeJS.Timeout | undefined;
  /** Wakes the run loop held by flow control (on resume, a wider window, stop or failure). */
  private wake: (() => void) | undefined;
  /** First byte after the preview: where a `start` without an offset begins. */
  private previewEnd = 0;
  /** The preview being sent; `start` waits for it, so the stream's bytes follow it in order. */
  private previewing: Promise<boolean> | undefined;
  /** The first message's bytes, read with the prepared file; used by the first read at its offset. */
  private head: { offset: number; bytes: Uint8Array } | undefined;

  constructor(private readonly options: StreamSessionOptions) {
    this.windowEnd = options.windowEnd;
  }

  /** The channel opened: open the file, send metadata and (unless deferred) start streaming. */
  async open(): Promise<void> {
    const { file, offset } = this.options;
    try {
      const { handle, size, head } = await (this.options.prepared ?? prepareStreamFile(file.path, offset, 0));
      if (this.stopped) {
        // stop() ran while the file was opening (the client left at once): it had no handle to
        // close, so close this one here or its descriptor lingers until GC.
        if (head) chunkPool.release(head.bytes);
        await handle.close().catch(() => undefined);
        return;
      }
      this.handle = handle;
      this.size = size;
      this.head = head;
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
    const preview = this.options.deferStart ? Math.min(this.options.preloadBytes ?? 0, this.size - offset) : 0;
    if (preview > 0) metadata.preloadBytes = preview;
    this.previewEnd = offset + preview;
    if (!this.send(encodeMessage(metadata))) return;
    this.metadataSent = true;
    if (!this.options.deferStart) return this.begin(offset);
    this.idleTimer = setTimeout(() => {
      if (this.startedFrom === undefined) void this.fail('IDLE_TIMEOUT', 'no "start" arrived in time');
    }, this.options.deferStartIdleMs);
    if (preview > 0) {
      this.previewing = this.sendPreview(offset, this.previewEnd).catch(() => {
        void this.fail('READ_FAILED', 'streaming failed');
        return false;
      });
      // A preview that holds the whole rest of the file is the whole stream.
      if (this.previewEnd === this.size && (await this.previewing)) await this.finish();
    }
  }

  /** A message from the client: `start` on a deferred channel, `pause`/`resume`/`window` on any. */
  message(data: unknown): void {
    if (this.stopped) return;
    if (typeof data !== 'string') return void this.fail('BAD_MESSAGE', 'the server expects text messages only');
    let message: ClientMessage;
    try {
      message = parseClientMessage(data);
    } catch (error) {
      return void this.fail('BAD_MESSAGE', error instanceof Error ? error.message : 'unreadable message');
    }
    if (message.type !== 'start') {
      if (!this.metadataSent) return void this.fail('BAD_MESSAGE', `"${message.type}" before metadata`);
      if (message.type === 'window') return this.raiseWindow(message.end);
      return this.setPaused(message.type === 'pause');
    }
    const requested = message.offset;
    if (this.startedFrom !== undefined) {
      // A repeated start (a double click racing the first) is harmless; another offset is not.
      if (requested === undefined || requested === this.startedFrom) return;
      return void this.fail('BAD_MESSAGE', 'the stream has already started');
    }
    if (this.handle === undefined) return void this.fail('BAD_MESSAGE', '"start" before metadata');
    const offset = requested ?? this.previewEnd;
    if (this.previewEnd === this.size && requested === undefined) return; // the preview was the whole stream
    if (offset >= this.size) return void this.fail('BAD_MESSAGE', `start offset must be below ${this.size}`);
    const previewing = this.previewing;
    if (previewing === undefined) return this.begin(offset);
    // Mark it started now (a repeated start is recognised), stream once the preview is out.
    this.startedFrom = offset;
    clearTimeout(this.idleTimer);
    void previewing.then((sent) => {
      if (sent && !this.stopped) this.begin(offset);
    });
  }

  /** Stops sending and releases the file; safe to call at any time, more than once. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.detached = true;
    clearTimeout(this.idleTimer);
    this.release();
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close().catch(() => undefined);
  }

  /** Sends a stream error (best effort) and ends the session. */
  async fail(code: StreamErrorCode, message: string): Promise<void> {
    if (this.ended) return;
    this.stopped = true;
    this.release();
    if (this.send(encodeMessage({ type: 'error', code, message } satisfies ServerMessage))) await this.drain(1000);
    this.end('error', code);
  }

  get sentBytes(): number {
    return this.bytesSent;
  }

  /** Idempotent. */
  private setPaused(paused: boolean): void {
    if (paused === this.paused) return;
    this.paused = paused;
    if (!paused) this.wakeUp();
  }

  /** Raises the window only (a lower end is stale, not a request to take bytes back). */
  private raiseWindow(end: number): void {
    if (this.windowEnd !== undefined && end <= this.windowEnd) return;
    this.windowEnd = end;
    this.wakeUp();
  }

  /** Whether flow control holds a chunk that begins at `position`. */
  private heldAt(position: number): boolean {
    return this.paused || (this.windowEnd !== undefined && position >= this.windowEnd);
  }

  /**
   * Waits while flow control holds the chunk at `position`. The idle clock of `pausedIdleMs` runs
   * meanwhile; the drain timeout does not (the run loop holds its chunk before waiting for room,
   * so a client that wants nothing never looks like a dead peer).
   */
  private async whileHeld(position: number): Promise<void> {
    while (this.heldAt(position) && !this.stopped) {
      this.heldTimer ??= setTimeout(() => void this.fail('IDLE_TIMEOUT', 'held by flow control for too long'), this.options.pausedIdleMs ?? 120_000);
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    clearTimeout(this.heldTimer);
    this.heldTimer = undefined;
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** Ends any flow-control wait: the session is stopping. */
  private release(): void {
    clearTimeout(this.heldTimer);
    this.heldTimer = undefined;
    this.wakeUp();
  }

  private begin(offset: number): void {
    this.startedFrom = offset;
    clearTimeout(this.idleTimer);
    this.run(offset).catch(() => this.fail('READ_FAILED', 'streaming failed'));
  }

  private async run(offset: number): Promise<void> {
    if (!(await this.sendRange(offset, this.size, true))) return;
    await this.finish();
  }

  /** Sends `complete`, waits for it to drain, ends the session. */
  private async finish(): Promise<void> {
    clearTimeout(this.idleTimer);
    if (this.stopped) return;
    if (!this.send(encodeMessage({ type: 'complete' }))) return;
    await this.drain(this.drainTimeoutMs());
    this.stopped = true;
    this.end('complete');
  }

  /**
   * Sends the file's bytes [offset, end) in chunks, flow-controlled (and paced when `paced`).
   * True when all were sent; false when the session stopped or ended on the way.
   */
  private async sendRange(offset: number, end: number, paced: boolean): Promise<boolean> {
    const { chunkSize, pacing, faults } = this.options;
    const startedAt = performance.now();
    let lastSentAt = startedAt;
    let position = offset;
    const waitBefore = (bytesSent: number, bytes: number) =>
      paced ? pacingDelay(pacing, { bytesSent, startedAt, lastSentAt }, bytes, performance.now()) : 0;
    // The next chunk, read while the current one waited for room: only while the stream is unpaced.
    let pending: Promise<ReadResult> | undefined;
    while (position < end) {
      const expected = Math.min(chunkSize, end - position);
      const wait = waitBefore(this.bytesSent, expected);
      if (wait > 0) await delay(wait);
      if (this.stopped) return false;
      // Flow control: hold this chunk while the client is paused or its window is used up. Pacing
      // needs no reset after the wait: it spaces each chunk from the previous send, so time spent
      // held earns no credit (no catch-up burst), and the start-up burst is counted from the first
      // chunk of the connection, so a resume never opens a new one.
      if (this.heldAt(position)) {
        await this.whileHeld(position);
        if (this.stopped) return false;
      }
      // A paced chunk is read when its slot has come, not seconds ahead: hundreds of listeners
      // would otherwise each hold a chunk's buffer, and a 64 KiB read from the page cache costs
      // less than a trip through the thread pool and a second wake-up of the event loop.
      const result = pending !== undefined ? await pending : wait > 0 ? this.readNow(position, end) : await this.read(position, end);
      pending = undefined;
      if (this.stopped) return false;
      if ('error' in result) {
        await this.fail('READ_FAILED', 'reading the file failed');
        return false;
      }
      if (result.bytes.byteLength < expected) {
        await this.fail('FILE_CHANGED', 'the file shrank while streaming');
        return false;
      }
      const next = position + expected;
      // Read ahead while this chunk waits for room, when the next one will not wait for its slot.
      if (next < end && waitBefore(this.bytesSent + expected, Math.min(chunkSize, end - next)) === 0) pending = this.read(next, end);
      try {
        const room = await waitForRoom(this.options.channel, expected, HIGH_WATER_MARK, () => this.stopped, this.drainTimeoutMs());
        if (!room) {
          if (!this.stopped) this.end('send-failed');
          return false;
        }
      } catch (error) {
        if (!(error instanceof FlowControlTimeout)) throw error;
        this.end('send-failed');
        return false;
      }
      if (!this.send(result.bytes)) return false;
      // wrtc copied the bytes in send(): the buffer can serve the next chunk of any session.
      chunkPool.release(result.bytes);
      lastSentAt = performance.now();
      this.bytesSent += expected;
      position = next;
      if (faults?.closeAfterBytes !== undefined && this.bytesSent >= faults.closeAfterBytes) {
        // Let what was sent arrive, so the client holds at least closeAfterBytes: deterministic tests.
        await this.drain(1000);
        this.end('fault');
        return false;
      }
      if (faults?.stallAfterBytes !== undefined && this.bytesSent >= faults.stallAfterBytes) {
        this.stopped = true; // keep the channel open, send nothing more
        return false;
      }
      // Yield to the event loop between sends even when the read was instant.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return !this.stopped;
  }

  /**
   * The preview, its first message small: a fresh SCTP association starts with a congestion
   * window of ~10 packets (~12 KB), so a whole 64 KiB chunk takes several round trips to arrive
   * and a first message that fits the first window arrives that much earlier — the first bytes a
   * cold start (which always asks for a preview) can decode. Preview messages may be of any size
   * up to chunkSize (wire protocol); the rest go in chunkSize messages as before.
   */
  private async sendPreview(offset: number, end: number): Promise<boolean> {
    const first = Math.min(end, offset + Math.min(FIRST_PREVIEW_MESSAGE_BYTES, this.options.chunkSize));
    if (!(await this.sendRange(offset, first, false))) return false;
    return first >= end || this.sendRange(first, end, false);
  }

  /** Reads the chunk at `position` through the thread pool (unpaced streams overlap it with sending). */
  private read(position: number, end: number): Promise<ReadResult> {
    const head = this.takeHead(position, end);
    if (head) return Promise.resolve({ bytes: head });
    const handle = this.handle;
    if (handle === undefined) return Promise.resolve({ error: new Error('file closed') });
    const bytes = chunkPool.acquire(Math.min(this.options.chunkSize, end - position));
    return handle.read(bytes, 0, bytes.byteLength, position).then(
      ({ bytesRead }) => ({ bytes: bytesRead === bytes.byteLength ? bytes : bytes.subarray(0, bytesRead) }),
      (error: unknown) => ({ error }),
    );
  }

  /** Reads the chunk at `position` on this thread (a paced chunk whose slot has come). */
  private readNow(position: number, end: number): ReadResult {
    const head = this.takeHead(position, end);
    if (head) return { bytes: head };
    const handle = this.handle;
    if (handle === undefined) return { error: new Error('file closed') };
    const bytes = chunkPool.acquire(Math.min(this.options.chunkSize, end - position));
    try {
      const bytesRead = readSync(handle.fd, bytes, 0, bytes.byteLength, position);
      return { bytes: bytesRead === bytes.byteLength ? bytes : bytes.subarray(0, bytesRead) };
    } catch (error) {
      return { error };
    }
  }

  /** The read-ahead first message, if the chunk at `position` is exactly it (once; released otherwise). */
  private takeHead(position: number, end: number): Uint8Array | undefined {
    const head = this.head;
    if (head === undefined) return undefined;
    this.head = undefined;
    if (head.offset === position && head.bytes.byteLength === Math.min(this.options.chunkSize, end - position)) return head.bytes;
    chunkPool.release(head.bytes);
    return undefined;
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
