/**
 * AAC ADTS frames cut from a byte stream, by codec-parser's rules: a frame is a valid 7-byte
 * header (sync 0xFFF, layer 0, a sampling frequency index that is not reserved, a length) whose
 * length ends where another valid header starts (or the stream ends); anything else is skipped a
 * byte at a time. It does what codec-parser did for CodecParserSource (same frames, same skipped
 * bytes) without its generator step per byte read and its header object and cache key per frame,
 * which cost about as much main-thread time as WebCodecs' whole decode of the frames.
 */
import { concatBytes } from './byte-queue.js';

export interface AdtsFrame {
  data: Uint8Array;
  samples: number;
  header: { sampleRate: number; channels: number };
}

const HEADER = 7;
/** By the sampling frequency index; 13 and 14 are reserved, 15 (an explicit rate) is not ADTS. */
const RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];
/** By the channel configuration (0: set by a PCE in the stream; 7: 7.1). */
const CHANNELS = [0, 1, 2, 3, 4, 5, 6, 8];

/** The subset of codec-parser's CodecParser API that CodecParserSource uses. */
export class AdtsFramer {
  readonly codec = 'aac';
  /** File offset just past the frame last yielded (codec-parser's private field of that name). */
  _currentReadPosition = 0;
  #bytes: Uint8Array = new Uint8Array(0);
  /** Where the unread bytes start in #bytes, and the file offset of #bytes[0]. */
  #at = 0;
  #offset = 0;

  *parseChunk(chunk: Uint8Array): Generator<AdtsFrame> {
    this.#bytes = concatBytes(this.#bytes.subarray(this.#at), chunk);
    this.#offset += this.#at;
    this.#at = 0;
    yield* this.#frames(false);
  }

  *flush(): Generator<AdtsFrame> {
    yield* this.#frames(true);
    this.#offset += this.#bytes.length;
    this.#bytes = new Uint8Array(0);
    this.#at = 0;
  }

  *#frames(final: boolean): Generator<AdtsFrame> {
    const bytes = this.#bytes;
    for (;;) {
      const at = this.#at;
      const left = bytes.length - at;
      if (left === 0 || (left < HEADER && !final)) return;
      const length = frameLength(bytes, at);
      if (length === 0) {
        // Not a header: on to the next 0xFF (a header's first byte), as a byte-by-byte search would.
        const next = bytes.indexOf(0xff, at + 1);
        this.#at = next < 0 ? bytes.length : next;
        continue;
      }
      if (!final) {
        if (left < length + HEADER) return; // the next header is still to come
        if (frameLength(bytes, at + length) === 0) {
          this.#at = at + 1; // no frame after this one: it was no frame
          continue;
        }
      }
      const data = bytes.subarray(at, Math.min(at + length, bytes.length));
      this.#at = at + data.length;
      this._currentReadPosition = this.#offset + this.#at;
      const b2 = bytes[at + 2]!;
      yield {
        data,
        samples: 1024 * ((bytes[at + 6]! & 3) + 1),
        header: { sampleRate: RATES[(b2 >> 2) & 0x0f]!, channels: CHANNELS[((b2 & 1) << 2) | (bytes[at + 3]! >> 6)]! },
      };
    }
  }
}

/** The length of the ADTS frame whose header is at `at` (header included), or 0 if none is there. */
function frameLength(bytes: Uint8Array, at: number): number {
  if (at + HEADER > bytes.length || bytes[at] !== 0xff) return 0;
  const b1 = bytes[at + 1]!;
  if (b1 < 0xf0 || (b1 & 0x06) !== 0 || ((bytes[at + 2]! >> 2) & 0x0f) >= RATES.length) return 0;
  return ((bytes[at + 3]! & 0x03) << 11) | (bytes[at + 4]! << 3) | (bytes[at + 5]! >> 5);
}
