/**
 * Bytes received but not yet consumed, kept as the chunks they arrived in (no copy per push);
 * `read(n)` copies out only what a parser asks for.
 */
export class ByteQueue {
  #chunks: Uint8Array[] = [];
  #head = 0; // consumed bytes of #chunks[0]
  #length = 0;
  /** File offset of the first unconsumed byte. */
  offset = 0;

  get length(): number {
    return this.#length;
  }

  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.#chunks.push(bytes);
    this.#length += bytes.length;
  }

  /** The next `n` bytes without consuming them (a copy only when they span chunks). */
  peek(n: number): Uint8Array | undefined {
    if (n > this.#length) return undefined;
    const first = this.#chunks[0];
    if (first && first.length - this.#head >= n) return first.subarray(this.#head, this.#head + n);
    const out = new Uint8Array(n);
    let filled = 0;
    for (let i = 0; filled < n; i++) {
      const chunk = this.#chunks[i]!;
      const from = i === 0 ? this.#head : 0;
      const take = Math.min(n - filled, chunk.length - from);
      out.set(chunk.subarray(from, from + take), filled);
      filled += take;
    }
    return out;
  }

  read(n: number): Uint8Array | undefined {
    const bytes = this.peek(n);
    if (bytes) this.skip(n);
    return bytes;
  }

  /** Drops up to `n` bytes; returns how many were dropped. */
  skip(n: number): number {
    let left = Math.min(n, this.#length);
    const dropped = left;
    while (left > 0) {
      const chunk = this.#chunks[0]!;
      const available = chunk.length - this.#head;
      if (available > left) {
        this.#head += left;
        left = 0;
      } else {
        left -= available;
        this.#chunks.shift();
        this.#head = 0;
      }
    }
    this.#length -= dropped;
    this.offset += dropped;
    return dropped;
  }
}

/**
 * `tail` appended to `head` (no copy when `head` is empty). For readers that scan one contiguous
 * buffer with native searches (`indexOf`), where a chunk list would cost more than the join.
 */
export function appendBytes(head: Uint8Array, tail: Uint8Array): Uint8Array {
  if (head.length === 0) return tail;
  if (tail.length === 0) return head;
  const joined = new Uint8Array(head.length + tail.length);
  joined.set(head);
  joined.set(tail, head.length);
  return joined;
}
