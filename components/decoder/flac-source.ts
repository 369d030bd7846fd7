/**
 * Native FLAC ("fLaC", metadata blocks, frames) read as it arrives. A FLAC frame does not carry
 * its length: it ends where the next frame's header starts. codec-parser finds that header with a
 * byte-by-byte JavaScript loop behind a generator per byte read and costs ~0.7 ms of main thread
 * per second of 16-bit stereo audio (a quarter of our whole FLAC decode cost); this reader finds it
 * with `indexOf` (native), takes a header only if its CRC-8 is right and it matches STREAMINFO,
 * and keeps codec-parser's rule for where a frame ends: the next header such that the frame's
 * CRC-16 footer checks (so a damaged frame is dropped, never decoded into noise). Unlike
 * codec-parser, which after damage searched 512 KB ahead and dropped all it searched (the rest of
 * a short file), it resumes at the next frame that checks.
 *
 * Frames are handed on as views into the bytes received: the frame a push lands in is copied
 * (joined from its two chunks), the frames after it are views into the chunk itself.
 */
import { concatBytes } from './byte-queue.js';
import type { FrameSink, FrameSource } from './frame-source.js';

interface StreamInfo {
  maxBlockSize: number;
  maxFrameSize: number;
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
  totalSamples: number;
  /** "fLaC" + the STREAMINFO block marked last: what WebCodecs and the segment files need. */
  description: Uint8Array;
}

interface FrameHeader {
  /** Bytes of the header, CRC-8 included. */
  length: number;
  blockSize: number;
  variable: boolean;
}

/** Bytes a frame header can take at most (sync 2, codes 2, coded number ≤ 7, sizes ≤ 4, CRC-8 1). */
const MAX_HEADER = 16;
/** Frame header + one subframe header byte + CRC-16: nothing shorter is a frame. */
const MIN_FRAME = 6;
/** How far the end of a frame is searched for when STREAMINFO gives no maximum frame size. */
const DEFAULT_SEARCH = 1 << 20;

export class FlacSource implements FrameSource {
  readonly #sink: FrameSink;
  /** Received bytes not consumed yet; `#offset` is the file offset of its first byte. */
  #bytes: Uint8Array = new Uint8Array(0);
  #offset = 0;
  #stage: 'magic' | 'block-header' | 'streaminfo' | 'skip-block' | 'frames' | 'done' = 'magic';
  #blockLeft = 0;
  #lastBlock = false;
  #info: StreamInfo | undefined;
  #announced = false;
  /** The stream's block strategy (from its first frame). */
  #variable: boolean | undefined;
  /** Where the search for the end of the frame at the buffer's start resumes after more bytes. */
  #resume = 0;
  /** File offset where the last frame emitted ended (undefined before the first). */
  #lastEnd: number | undefined;

  constructor(sink: FrameSink) {
    this.#sink = sink;
  }

  get bufferedBytes(): number {
    return this.#bytes.length;
  }

  push(bytes: Uint8Array): void {
    if (this.#stage === 'done' || bytes.length === 0) return;
    const held = this.#bytes;
    const maxFrame = this.#info?.maxFrameSize ?? 0;
    if (held.length === 0 || this.#stage !== 'frames' || maxFrame === 0) {
      this.#bytes = concatBytes(held, bytes);
      this.#parse(false);
      return;
    }
    // Nearly every push lands inside a frame. Joining all of the chunk to the held part copied
    // every byte of the stream once (6 MB a minute of CD audio); joining only what that frame
    // and the header after it can take, then going on in the chunk itself, copies ~one frame.
    const take = Math.min(bytes.length, Math.max(0, maxFrame + MAX_HEADER - held.length));
    const joined = concatBytes(held, bytes.subarray(0, take));
    this.#bytes = joined;
    this.#parse(false);
    if (this.#stage !== 'frames' || take === bytes.length) return;
    // What is left of `joined` is a suffix of it; once the held part is consumed, that suffix
    // is the chunk's own bytes, so the chunk takes its place (same first byte: #resume holds).
    const consumed = joined.length - this.#bytes.length;
    this.#bytes = consumed >= held.length ? bytes.subarray(consumed - held.length) : concatBytes(this.#bytes, bytes.subarray(take));
    this.#parse(false);
  }

  end(): void {
    if (this.#stage === 'done') return;
    this.#parse(true);
    this.#consume(this.#bytes.length);
    this.#stage = 'done';
  }

  #consume(n: number): void {
    this.#resume = 0;
    this.#bytes = this.#bytes.subarray(n);
    this.#offset += n;
  }

  #fail(reason: string): void {
    this.#stage = 'done';
    this.#bytes = new Uint8Array(0);
    this.#sink.unsupported(reason);
  }

  #parse(final: boolean): void {
    for (;;) {
      const bytes = this.#bytes;
      switch (this.#stage) {
        case 'magic':
          if (bytes.length < 4) return;
          if (bytes[0] !== 0x66 || bytes[1] !== 0x4c || bytes[2] !== 0x61 || bytes[3] !== 0x43) return this.#fail('not a FLAC stream');
          this.#consume(4);
          this.#stage = 'block-header';
          break;
        case 'block-header': {
          if (bytes.length < 4) {
            if (final) this.#fail('FLAC metadata cut short');
            return;
          }
          const type = bytes[0]! & 0x7f;
          this.#lastBlock = (bytes[0]! & 0x80) !== 0;
          this.#blockLeft = (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!;
          if (!this.#info && (type !== 0 || this.#blockLeft !== 34)) return this.#fail('FLAC stream without STREAMINFO');
          this.#stage = this.#info ? 'skip-block' : 'streaminfo';
          if (this.#stage === 'skip-block') this.#consume(4);
          break;
        }
        case 'streaminfo': {
          if (bytes.length < 4 + 34) {
            if (final) this.#fail('FLAC STREAMINFO cut short');
            return;
          }
          this.#info = readStreamInfo(bytes.subarray(0, 38));
          if (!this.#info) return this.#fail('invalid FLAC STREAMINFO');
          this.#consume(38);
          this.#stage = this.#lastBlock ? 'frames' : 'block-header';
          break;
        }
        case 'skip-block': {
          // Other metadata (pictures of hundreds of KB among them) is dropped as it arrives.
          const n = Math.min(this.#blockLeft, bytes.length);
          this.#consume(n);
          this.#blockLeft -= n;
          if (this.#blockLeft > 0) return;
          this.#stage = this.#lastBlock ? 'frames' : 'block-header';
          break;
        }
        case 'frames':
          this.#frames(final);
          return;
        case 'done':
          return;
      }
    }
  }

  /** Emits every complete frame in the buffer; resynchronises past bytes that are no frame. */
  #frames(final: boolean): void {
    const info = this.#info!;
    const searchLimit = info.maxFrameSize > 0 ? 2 * info.maxFrameSize + MAX_HEADER : DEFAULT_SEARCH;
    for (;;) {
      const bytes = this.#bytes;
      if (bytes.length === 0) return;
      // A frame starts here only if its header is valid; else look for the next sync.
      const header = bytes.length >= MAX_HEADER || final ? this.#header(bytes, 0) : undefined;
      if (!header) {
        if (bytes.length < MAX_HEADER && !final) return;
        const next = this.#nextSync(bytes, 1);
        if (next < 0) {
          // Keep a possible sync at the very end; everything before it is no frame.
          if (!final) this.#consume(Math.max(0, bytes.length - 1));
          else this.#consume(bytes.length);
          return;
        }
        this.#consume(next);
        continue;
      }
      const end = this.#frameEnd(bytes, header, searchLimit, final);
      if (end === 'more') return;
      if (end === undefined) {
        // No end makes this a frame (damage inside it): it is skipped, resync one byte on.
        this.#consume(1);
        continue;
      }
      this.#emit(bytes.subarray(0, end), header);
      this.#consume(end);
    }
  }

  /**
   * Where the frame at 0 ends: the first later header after which the frame's CRC-16 checks
   * (the end of the bytes at the end of the stream). 'more': not decidable before more bytes.
   */
  #frameEnd(bytes: Uint8Array, header: FrameHeader, searchLimit: number, final: boolean): number | 'more' | undefined {
    let at = Math.max(header.length + 1, this.#resume);
    for (;;) {
      if (at > searchLimit) return undefined;
      const next = this.#nextSync(bytes, at);
      if (next < 0 || next + MAX_HEADER > bytes.length) {
        if (!final) {
          if (bytes.length > searchLimit + MAX_HEADER) return undefined;
          // The bytes before `next` hold no end: the next push resumes there.
          this.#resume = next < 0 ? bytes.length : next;
          return 'more';
        }
        // The stream's last frame: whole only if its CRC-16 checks (a cut one is dropped).
        if (next < 0) return bytes.length >= MIN_FRAME && footerChecks(bytes, bytes.length) ? bytes.length : undefined;
      }
      const following = this.#header(bytes, next);
      if (following && next >= MIN_FRAME && footerChecks(bytes, next)) return next;
      at = next + 1;
    }
  }

  /** Index of the next byte pair 0xFF 0xF8/0xF9 at or after `from`, or -1. */
  #nextSync(bytes: Uint8Array, from: number): number {
    for (let at = bytes.indexOf(0xff, from); at >= 0; at = bytes.indexOf(0xff, at + 1)) {
      if (at + 1 >= bytes.length) return at; // the second byte is still to come
      if ((bytes[at + 1]! & 0xfe) === 0xf8) return at;
    }
    return -1;
  }

  /** A frame header at `at` that fits this stream (CRC-8 checked), or undefined. */
  #header(bytes: Uint8Array, at: number): FrameHeader | undefined {
    const info = this.#info!;
    if (bytes.length < at + 6 || bytes[at] !== 0xff || (bytes[at + 1]! & 0xfe) !== 0xf8) return undefined;
    const variable = (bytes[at + 1]! & 1) === 1;
    if (this.#variable !== undefined && variable !== this.#variable) return undefined;
    const sizeCode = bytes[at + 2]! >> 4;
    const rateCode = bytes[at + 2]! & 0x0f;
    const channelCode = bytes[at + 3]! >> 4;
    const depthCode = (bytes[at + 3]! >> 1) & 7;
    if (sizeCode === 0 || rateCode === 15 || channelCode > 10 || depthCode === 3 || (bytes[at + 3]! & 1) !== 0) return undefined;
    if ((channelCode < 8 ? channelCode + 1 : 2) !== info.channels) return undefined;
    if (depthCode !== 0 && DEPTHS[depthCode] !== info.bitsPerSample) return undefined;
    // The coded frame/sample number (UTF-8-like, 1 to 7 bytes): only its length matters here.
    let p = at + 4;
    const first = bytes[p++]!;
    const extra = first < 0x80 ? 0 : first < 0xc0 ? -1 : first < 0xe0 ? 1 : first < 0xf0 ? 2 : first < 0xf8 ? 3 : first < 0xfc ? 4 : first < 0xfe ? 5 : first === 0xfe && variable ? 6 : -1;
    if (extra < 0 || bytes.length < p + extra + 5) return undefined;
    for (const end = p + extra; p < end; p++) if ((bytes[p]! & 0xc0) !== 0x80) return undefined;
    let blockSize: number;
    if (sizeCode === 1) blockSize = 192;
    else if (sizeCode <= 5) blockSize = 576 << (sizeCode - 2);
    else if (sizeCode === 6) blockSize = bytes[p++]! + 1;
    else if (sizeCode === 7) (blockSize = ((bytes[p]! << 8) | bytes[p + 1]!) + 1), (p += 2);
    else blockSize = 256 << (sizeCode - 8);
    let rate = info.sampleRate;
    if (rateCode >= 1 && rateCode <= 11) rate = RATES[rateCode]!;
    else if (rateCode === 12) rate = bytes[p++]! * 1000;
    else if (rateCode === 13) (rate = (bytes[p]! << 8) | bytes[p + 1]!), (p += 2);
    else if (rateCode === 14) (rate = ((bytes[p]! << 8) | bytes[p + 1]!) * 10), (p += 2);
    if (rate !== info.sampleRate || (info.maxBlockSize >= 16 && blockSize > info.maxBlockSize)) return undefined;
    if (p >= bytes.length || crc8(bytes, at, p) !== bytes[p]) return undefined;
    return { length: p + 1 - at, blockSize, variable };
  }

  #emit(data: Uint8Array, header: FrameHeader): void {
    const info = this.#info!;
    const fileOffset = this.#offset;
    if (!this.#announced) {
      this.#announced = true;
      this.#variable = header.variable;
      this.#sink.track({
        codec: 'flac',
        sampleRate: info.sampleRate,
        channelCount: info.channels,
        decoding: { kind: 'webcodecs', config: { codec: 'flac', sampleRate: info.sampleRate, numberOfChannels: info.channels, description: info.description } },
        skip: 0,
        skipAlreadyCounted: 0,
        ...(info.totalSamples > 0 ? { totalFrames: info.totalSamples } : {}),
      });
    }
    // Bytes before the first frame are metadata, not damage.
    if (this.#lastEnd !== undefined && fileOffset > this.#lastEnd) this.#sink.skipped(fileOffset - this.#lastEnd);
    this.#lastEnd = fileOffset + data.length;
    this.#sink.frame({ data, samples: header.blockSize, fileOffset });
  }
}

const RATES = [0, 88200, 176400, 192000, 8000, 16000, 22050, 24000, 32000, 44100, 48000, 96000];
const DEPTHS = [0, 8, 12, 0, 16, 20, 24, 32];

function readStreamInfo(block: Uint8Array): StreamInfo | undefined {
  const b = block.subarray(4);
  const maxBlockSize = (b[2]! << 8) | b[3]!;
  const maxFrameSize = (b[7]! << 16) | (b[8]! << 8) | b[9]!;
  const sampleRate = (b[10]! << 12) | (b[11]! << 4) | (b[12]! >> 4);
  const channels = ((b[12]! >> 1) & 7) + 1;
  const bitsPerSample = (((b[12]! & 1) << 4) | (b[13]! >> 4)) + 1;
  const totalSamples = (b[13]! & 0x0f) * 2 ** 32 + (((b[14]! << 24) | (b[15]! << 16) | (b[16]! << 8) | b[17]!) >>> 0);
  if (sampleRate === 0) return undefined;
  const description = new Uint8Array(42);
  description.set([0x66, 0x4c, 0x61, 0x43]);
  description.set(block, 4);
  description[4] = 0x80; // STREAMINFO as the last (only) metadata block
  return { maxBlockSize, maxFrameSize, sampleRate, channels, bitsPerSample, totalSamples, description };
}

/** Whether bytes [0, end) end with their own CRC-16. */
function footerChecks(bytes: Uint8Array, end: number): boolean {
  return crc16(bytes, 0, end - 2) === ((bytes[end - 2]! << 8) | bytes[end - 1]!);
}

/** CRC-8 of the frame header (polynomial 0x07, init 0), bytes [from, to). */
function crc8(bytes: Uint8Array, from: number, to: number): number {
  let crc = 0;
  for (let i = from; i < to; i++) crc = CRC8[crc ^ bytes[i]!]!;
  return crc;
}

/** CRC-16 of the frame (polynomial 0x8005, init 0, MSB first), bytes [from, to); slice-by-8. */
function crc16(bytes: Uint8Array, from: number, to: number): number {
  let crc = 0;
  let i = from;
  const [t0, t1, t2, t3, t4, t5, t6, t7] = CRC16;
  for (const end = to - 7; i < end; i += 8) {
    crc ^= (bytes[i]! << 8) | bytes[i + 1]!;
    crc =
      t7[crc >> 8]! ^ t6[crc & 0xff]! ^ t5[bytes[i + 2]!]! ^ t4[bytes[i + 3]!]! ^
      t3[bytes[i + 4]!]! ^ t2[bytes[i + 5]!]! ^ t1[bytes[i + 6]!]! ^ t0[bytes[i + 7]!]!;
  }
  for (; i < to; i++) crc = ((crc << 8) & 0xffff) ^ t0[(crc >> 8) ^ bytes[i]!]!;
  return crc;
}

const CRC8 = (() => {
  const table = new Uint8Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i;
    for (let bit = 0; bit < 8; bit++) r = r & 0x80 ? ((r << 1) ^ 0x07) & 0xff : (r << 1) & 0xff;
    table[i] = r;
  }
  return table;
})();

/** CRC16[k][b]: the CRC-16 of byte b followed by k zero bytes. */
const CRC16 = (() => {
  const tables = Array.from({ length: 8 }, () => new Uint16Array(256));
  for (let i = 0; i < 256; i++) {
    let r = i << 8;
    for (let bit = 0; bit < 8; bit++) r = r & 0x8000 ? ((r << 1) ^ 0x8005) & 0xffff : (r << 1) & 0xffff;
    tables[0]![i] = r;
  }
  for (let k = 1; k < 8; k++) {
    for (let i = 0; i < 256; i++) {
      const previous = tables[k - 1]![i]!;
      tables[k]![i] = ((previous << 8) & 0xffff) ^ tables[0]![previous >> 8]!;
    }
  }
  return tables as [Uint16Array, Uint16Array, Uint16Array, Uint16Array, Uint16Array, Uint16Array, Uint16Array, Uint16Array];
})();
