/**
 * Chunk buffers reused across every session of the process. @roamhq/wrtc copies a message's bytes
 * inside `send()` (overwriting the buffer right after `send()` returns changes nothing the peer
 * receives), so a chunk's buffer is free again as soon as it was sent. Hundreds of paced
 * listeners otherwise allocate a fresh zero-filled 64 KiB buffer per chunk: external memory that
 * drives V8's collections and the process's RSS.
 */
import { MAX_CHUNK_SIZE } from '../../components/protocol';

export class ChunkPool {
  private readonly free: ArrayBuffer[] = [];

  constructor(
    private readonly bufferBytes = MAX_CHUNK_SIZE,
    /** Buffers kept for reuse; more are collected as usual. */
    private readonly maxFree = 64,
  ) {}

  /** A view of `length` (≤ bufferBytes) bytes of a buffer nobody else holds. Contents are stale. */
  acquire(length: number): Uint8Array {
    if (length > this.bufferBytes) throw new RangeError(`a chunk of ${length} bytes exceeds the pool's ${this.bufferBytes}`);
    return new Uint8Array(this.free.pop() ?? new ArrayBuffer(this.bufferBytes), 0, length);
  }

  /** Hands a chunk's buffer back; the caller must not touch `bytes` afterwards. */
  release(bytes: Uint8Array): void {
    const buffer = bytes.buffer;
    if (buffer instanceof ArrayBuffer && buffer.byteLength === this.bufferBytes && this.free.length < this.maxFree) this.free.push(buffer);
  }

  get freeBuffers(): number {
    return this.free.length;
  }
}

/** The process's pool (all sessions of a peer process share it). */
export const chunkPool = new ChunkPool();
