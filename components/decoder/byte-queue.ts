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
 * The parts joined into one array; the only non-empty part itself when there is one (no copy:
 * callers that hand the result's buffer on, e.g. to decodeAudioData, must copy themselves).
 */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const filled = parts.filter((part) => part.length > 0);
  if (filled.length <= 1) return filled[0] ?? new Uint8Array(0);
  const out = new Uint8Array(filled.reduce((n, part) => n + part.length, 0));
  let at = 0;
  for (const part of filled) out.set(part, at), (at += part.length);
  return out;
}
