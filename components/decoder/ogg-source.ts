/**
 * Ogg (RFC 3533) with Opus (RFC 7845) or Vorbis (Vorbis I spec, appendix A) read as it arrives:
 * pages found by their capture pattern and taken only if their CRC-32 checks, packets joined across
 * pages, each packet's duration from its own first bytes (Opus TOC; Vorbis mode → block size).
 * Replaces codec-parser for Ogg, whose generator-per-byte-read page parsing and per-page objects
 * cost more main-thread time than the rest of our Vorbis decode together. Same frames as its
 * adapter gave (pre-skip left out of the first Opus packets' counts, the last page's packets cut to
 * its granule position), but damage is found by the checksum, where codec-parser took any "OggS".
 *
 * Packets are views into the bytes received (no copy unless one spans pages); a push that cuts a
 * page joins the unread rest with what follows once the page is complete (one copy of that page).
 */
import type { FrameSink, FrameSource, TrackInfo } from './frame-source.js';
import { OGG_CAPTURE, oggCrc } from './ogg-crc.js';

const HEADER_BYTES = 27;
const FLAG_CONTINUED = 0x01;
const FLAG_BOS = 0x02;
const FLAG_EOS = 0x04;
const OPUS_RATE = 48000;

interface Page {
  /** File offset of the page. */
  offset: number;
  flags: number;
  /** -1: no packet ends on this page. */
  granule: number;
  serial: number;
  sequence: number;
}

type Codec =
  | { name: 'opus'; head: Uint8Array; channels: number; preSkip: number }
  | {
      name: 'vorbis';
      identification: Uint8Array;
      comments?: Uint8Array;
      channels: number;
      sampleRate: number;
      blockSizes: [number, number];
      /** Each mode's block flag, and the mask of the mode number's bits, from the setup header. */
      blockFlags?: number[];
      modeMask?: number;
    };

export class OggSource implements FrameSource {
  readonly #sink: FrameSink;
  /** Received bytes from `#at` on are unread; `#base` is the file offset of `#bytes[0]`. */
  #bytes: Uint8Array = new Uint8Array(0);
  #at = 0;
  #base = 0;
  /** Chunks received while the page at `#at` was still incomplete, joined once it is (or at end). */
  #waiting: Uint8Array[] = [];
  #waitingBytes = 0;
  /** Bytes from `#at` the next step needs before it can go on. */
  #need = HEADER_BYTES;
  /** File offset where the last valid page ended (undefined before the first). */
  #lastEnd: number | undefined;
  /** The logical stream we play (the first Opus or Vorbis one), once its first page came. */
  #serial: number | undefined;
  #codec: Codec | undefined;
  /** Identification of the first stream we cannot play, for the error if no other one comes. */
  #otherCodec: string | undefined;
  /** Parts of a packet that goes on onto the next page. */
  #continued: Uint8Array[] = [];
  #continuedBytes = 0;
  #lastSequence = -1;
  /** Granule position of the stream's last page that had one. */
  #lastGranule = 0;
  /** Packets of the stream so far (the first two or three are headers). */
  #packets = 0;
  #track: TrackInfo | undefined;
  #opusSkipLeft = 0;
  #previousBlock: number | undefined;
  /** The Vorbis setup header (the comment and identification ones are in `#codec`). */
  #setup: Uint8Array | undefined;
  /** The stream ended (its last page, a chained stream after it, or an error): nothing more is read. */
  #done = false;

  constructor(sink: FrameSink) {
    this.#sink = sink;
  }

  get bufferedBytes(): number {
    return this.#done ? 0 : this.#bytes.length - this.#at + this.#waitingBytes + this.#continuedBytes;
  }

  push(bytes: Uint8Array): void {
    if (this.#done || bytes.length === 0) return;
    this.#waiting.push(bytes);
    this.#waitingBytes += bytes.length;
    if (this.#bytes.length - this.#at + this.#waitingBytes < this.#need) return;
    this.#join();
    this.#parse(false);
  }

  end(): void {
    if (this.#done) return;
    this.#join();
    this.#parse(true);
    this.#done = true;
    this.#bytes = new Uint8Array(0);
    this.#at = 0;
  }

  #join(): void {
    if (this.#waiting.length === 0) return;
    const rest = this.#bytes.length - this.#at;
    if (rest === 0 && this.#waiting.length === 1) {
      this.#base += this.#bytes.length;
      this.#bytes = this.#waiting[0]!;
    } else {
      const joined = new Uint8Array(rest + this.#waitingBytes);
      joined.set(this.#bytes.subarray(this.#at));
      let at = rest;
      for (const chunk of this.#waiting) joined.set(chunk, at), (at += chunk.length);
      this.#base += this.#at;
      this.#bytes = joined;
    }
    this.#at = 0;
    this.#waiting = [];
    this.#waitingBytes = 0;
  }

  #parse(final: boolean): void {
    const b = this.#bytes;
    while (!this.#done) {
      const at = this.#at;
      const available = b.length - at;
      this.#need = HEADER_BYTES;
      if (available < HEADER_BYTES) break;
      if (b[at] !== 0x4f || b[at + 1] !== 0x67 || b[at + 2] !== 0x67 || b[at + 3] !== 0x53 || b[at + 4] !== 0 || (b[at + 5]! & 0xf8) !== 0) {
        this.#resync(at + 1);
        continue;
      }
      const segments = b[at + 26]!;
      const headerLength = HEADER_BYTES + segments;
      if (available < headerLength) {
        if (final) break;
        this.#need = headerLength;
        break;
      }
      let bodyLength = 0;
      for (let i = at + HEADER_BYTES; i < at + headerLength; i++) bodyLength += b[i]!;
      const pageLength = headerLength + bodyLength;
      if (available < pageLength) {
        // At the end: a truncated last page gives the packets it holds whole (no checksum to check).
        if (final) this.#page(at, headerLength, b.length, false);
        this.#need = pageLength;
        break;
      }
      const stored = (b[at + 22]! | (b[at + 23]! << 8) | (b[at + 24]! << 16) | (b[at + 25]! << 24)) >>> 0;
      let crc = oggCrc(b, at, at + 22);
      crc = oggCrc(ZERO_CRC, 0, 4, crc);
      crc = oggCrc(b, at + 26, at + pageLength, crc);
      if (crc !== stored) {
        this.#resync(at + 1);
        continue;
      }
      const offset = this.#base + at;
      if (this.#lastEnd !== undefined && offset > this.#lastEnd) this.#sink.skipped(offset - this.#lastEnd);
      this.#lastEnd = offset + pageLength;
      this.#at = at + pageLength;
      this.#page(at, headerLength, at + pageLength, true);
    }
  }

  /** Moves to the next capture pattern from `from` on, or to an "O" at the very end (a cut one). */
  #resync(from: number): void {
    const b = this.#bytes;
    let next = b.indexOf(OGG_CAPTURE[0]!, from);
    while (next >= 0 && next + 4 <= b.length && !(b[next + 1] === 0x67 && b[next + 2] === 0x67 && b[next + 3] === 0x53)) {
      next = b.indexOf(OGG_CAPTURE[0]!, next + 1);
    }
    this.#at = next >= 0 ? next : b.length;
  }

  /** One page, header at `at`; `end` is where its bytes end (short of its length if truncated). */
  #page(at: number, headerLength: number, end: number, whole: boolean): void {
    const b = this.#bytes;
    const flags = b[at + 5]!;
    const page: Page = {
      offset: this.#base + at,
      flags,
      granule: readGranule(b, at + 6),
      serial: (b[at + 14]! | (b[at + 15]! << 8) | (b[at + 16]! << 16) | (b[at + 17]! << 24)) >>> 0,
      sequence: (b[at + 18]! | (b[at + 19]! << 8) | (b[at + 20]! << 16) | (b[at + 21]! << 24)) >>> 0,
    };
    if (this.#serial === undefined) {
      if (!(flags & FLAG_BOS)) {
        // All streams' first pages come before any other page: no stream we can play is in here.
        this.#fail(`Ogg ${this.#otherCodec ?? 'stream'} is not supported`);
        return;
      }
      if (!this.#choose(b.subarray(at + headerLength, end), page)) return;
    }
    if (page.serial !== this.#serial) return;
    if (page.sequence !== this.#lastSequence + 1 || !(flags & FLAG_CONTINUED)) {
      // A lost page: the packet it continued cannot be completed. A page marked as continuing a
      // packet we do not have: its first packet part belongs to that lost packet.
      this.#continued = [];
      this.#continuedBytes = 0;
    }
    const orphan = (flags & FLAG_CONTINUED) !== 0 && this.#continued.length === 0;
    this.#lastSequence = page.sequence;
    const packets: Uint8Array[] = [];
    let start = at + headerLength;
    let size = 0;
    let first = true;
    for (let i = at + HEADER_BYTES; i < at + headerLength; i++) {
      const lace = b[i]!;
      size += lace;
      if (lace === 255) continue;
      if (start + size > end) break; // truncated
      let packet: Uint8Array = b.subarray(start, start + size);
      if (first && this.#continued.length > 0) packet = this.#takeContinued(packet);
      if (!(first && orphan)) packets.push(packet);
      first = false;
      start += size;
      size = 0;
    }
    if (whole && size > 0 && !(first && orphan)) {
      this.#continued.push(b.subarray(start, start + size));
      this.#continuedBytes += size;
    }
    const last = whole && (flags & FLAG_EOS) !== 0;
    this.#packetsOf(packets, page, last);
    if (page.granule !== -1) this.#lastGranule = page.granule;
    if (last) {
      if (this.#track) {
        const total = this.#codec?.name === 'opus' ? page.granule - this.#codec.preSkip : page.granule;
        if (total > 0) this.#sink.totalFrames(total);
      }
      // A chained file (`cat a.ogg b.ogg`) plays its first stream only: the next one's audio would
      // follow this one's end padding, which no decoder drops in mid-stream.
      this.#done = true;
    }
  }

  #takeContinued(tail: Uint8Array): Uint8Array {
    const joined = new Uint8Array(this.#continuedBytes + tail.length);
    let at = 0;
    for (const part of this.#continued) joined.set(part, at), (at += part.length);
    joined.set(tail, at);
    this.#continued = [];
    this.#continuedBytes = 0;
    return joined;
  }

  /** A first page: takes its stream if it is Opus or Vorbis (true), fails on Ogg FLAC. */
  #choose(body: Uint8Array, page: Page): boolean {
    const id = latin1(body.subarray(0, 8));
    if (id === 'OpusHead') {
      const channels = body[9] ?? 0;
      const family = body[18] ?? 0;
      const length = family === 0 ? 19 : 21 + channels;
      if (body.length < length || channels === 0 || (family === 0 && channels > 2) || (family === 1 && channels > 8)) {
        this.#fail('Ogg Opus: invalid OpusHead header');
        return false;
      }
      const preSkip = body[10]! | (body[11]! << 8);
      this.#codec = { name: 'opus', head: body.slice(0, length), channels, preSkip };
      this.#opusSkipLeft = preSkip;
    } else if (id.startsWith('\x01vorbis')) {
      if (body.length < 30 || (body[29]! & 1) === 0) {
        this.#fail('Ogg Vorbis: invalid identification header');
        return false;
      }
      const small = 1 << (body[28]! & 0x0f);
      const large = 1 << (body[28]! >> 4);
      const sampleRate = (body[12]! | (body[13]! << 8) | (body[14]! << 16) | (body[15]! << 24)) >>> 0;
      if (body[11] === 0 || sampleRate === 0 || small > large) {
        this.#fail('Ogg Vorbis: invalid identification header');
        return false;
      }
      this.#codec = { name: 'vorbis', identification: body.slice(0, 30), channels: body[11]!, sampleRate, blockSizes: [small, large] };
    } else {
      // Skeleton ("fishead"), video and the like: another stream may hold the audio. FLAC in Ogg
      // is refused at once (codec-parser named it so too).
      if (id.startsWith('\x7fFLAC')) this.#fail('Ogg flac is not supported');
      else if (!id.startsWith('fishead')) this.#otherCodec ??= codecName(id);
      return false;
    }
    this.#serial = page.serial;
    this.#lastSequence = page.sequence - 1;
    return true;
  }

  /** The packets completed on one page of our stream, with their durations; headers taken aside. */
  #packetsOf(packets: Uint8Array[], page: Page, lastPage: boolean): void {
    const codec = this.#codec!;
    const frames: { data: Uint8Array; samples: number }[] = [];
    for (const data of packets) {
      const index = this.#packets++;
      if (codec.name === 'opus') {
        if (index < 2) continue; // OpusHead, OpusTags (however many pages the tags take)
        if (data.length === 0) continue;
        let samples = opusSamples(data);
        const skip = Math.min(this.#opusSkipLeft, samples);
        this.#opusSkipLeft -= skip;
        samples -= skip;
        frames.push({ data, samples });
      } else {
        if (index === 0) continue;
        if (index === 1) {
          if (!isVorbisHeader(data, 3)) return this.#fail('Ogg Vorbis: the comment header is missing');
          codec.comments = data.slice();
          continue;
        }
        if (index === 2) {
          const modes = isVorbisHeader(data, 5) ? vorbisModes(data) : undefined;
          if (!modes) return this.#fail('Ogg Vorbis: the setup header is not readable');
          codec.blockFlags = modes;
          codec.modeMask = (1 << (32 - Math.clz32(modes.length - 1))) - 1;
          this.#setup = data;
          continue;
        }
        // A packet of length 0, or with the header bit set, or of a mode that does not exist
        // carries no audio (the Vorbis spec has a decoder skip it); it is not handed on.
        if (data.length === 0 || (data[0]! & 1) !== 0) continue;
        const flag = codec.blockFlags![(data[0]! >> 1) & codec.modeMask!];
        if (flag === undefined) continue;
        const block = codec.blockSizes[flag]!;
        // A Vorbis packet returns the overlap of its block with the previous one: the first none.
        const samples = this.#previousBlock === undefined ? 0 : (this.#previousBlock + block) / 4;
        this.#previousBlock = block;
        frames.push({ data, samples });
      }
    }
    if (this.#done) return;
    if (lastPage) {
      // The last page's granule position says where the stream ends: its packets are cut to it
      // (encoder padding of the last packet; codec-parser counted the same way).
      let left = page.granule - this.#lastGranule;
      for (const frame of frames) {
        const full = frame.samples;
        if (left < full) frame.samples = Math.max(0, left);
        left -= full;
      }
    }
    for (const frame of frames) {
      if (!this.#track) this.#announce(frame.samples);
      this.#sink.frame({ data: frame.data, samples: frame.samples, fileOffset: page.offset });
    }
  }

  #announce(firstSamples: number): void {
    const codec = this.#codec!;
    if (codec.name === 'opus') {
      // Chromium's decoders (WebCodecs and decodeAudioData alike) drop the OpusHead pre-skip
      // themselves, and the first packets' counts leave it out already: the decoder decides
      // from the first output whether a trim is still owed.
      const config: AudioDecoderConfig = { codec: 'opus', sampleRate: OPUS_RATE, numberOfChannels: codec.channels, description: codec.head };
      this.#track = {
        codec: 'opus',
        sampleRate: OPUS_RATE,
        channelCount: codec.channels,
        decoding: { kind: 'webcodecs', config },
        skip: 0,
        skipAlreadyCounted: 0,
        uncertainSkip: { samples: codec.preSkip, firstFrameSamples: firstSamples },
      };
    } else {
      const description = xiphLace([codec.identification, codec.comments!, this.#setup!]);
      const config: AudioDecoderConfig = { codec: 'vorbis', sampleRate: codec.sampleRate, numberOfChannels: codec.channels, description };
      this.#track = {
        codec: 'vorbis',
        sampleRate: codec.sampleRate,
        channelCount: codec.channels,
        decoding: { kind: 'webcodecs', config },
        skip: 0,
        skipAlreadyCounted: 0,
      };
    }
    this.#sink.track(this.#track);
  }

  #fail(reason: string): void {
    this.#done = true;
    this.#sink.unsupported(reason);
  }
}

const ZERO_CRC = new Uint8Array(4);

/** A 64-bit little-endian signed granule position (exact up to 2^53; -1 stays -1). */
function readGranule(b: Uint8Array, at: number): number {
  const low = (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
  const high = b[at + 4]! | (b[at + 5]! << 8) | (b[at + 6]! << 16) | (b[at + 7]! << 24);
  return high * 2 ** 32 + low;
}

function latin1(bytes: Uint8Array): string {
  return String.fromCharCode(...bytes);
}

/** A printable name for an Ogg stream's identification ("\x80theora" → "theora"). */
function codecName(id: string): string {
  return id.replace(/[^\x21-\x7e]/g, '').toLowerCase() || 'stream';
}

function isVorbisHeader(packet: Uint8Array, type: number): boolean {
  return packet.length >= 7 && packet[0] === type && latin1(packet.subarray(1, 7)) === 'vorbis';
}

/**
 * Samples (at 48 kHz) of an Opus packet, from its TOC byte (RFC 6716 §3.1): the frame size of its
 * configuration times its frame count (code 3: the count in the second byte).
 */
export function opusSamples(packet: Uint8Array): number {
  const toc = packet[0]!;
  const config = toc >> 3;
  const frameSize = config < 12 ? SILK_SIZES[config & 3]! : config < 16 ? HYBRID_SIZES[config & 1]! : CELT_SIZES[config & 3]!;
  const code = toc & 3;
  const count = code === 0 ? 1 : code < 3 ? 2 : (packet[1] ?? 0) & 0x3f;
  return frameSize * count;
}
const SILK_SIZES = [480, 960, 1920, 2880];
const HYBRID_SIZES = [480, 960];
const CELT_SIZES = [120, 240, 480, 960];

/**
 * Each Vorbis mode's block flag (0 short, 1 long), read from the end of the setup header: the
 * modes are its last field and everything before them has variable size. Each mode is, read
 * backwards from the framing bit, an 8-bit mapping (< 64), a 16-bit transform type and a 16-bit
 * window type (both 0), and its block flag; before them the 6-bit mode count − 1. Where that
 * count matches the modes read so far, they are all (the way FFmpeg's and liboggz's parsers do it).
 */
export function vorbisModes(setup: Uint8Array): number[] | undefined {
  let position = setup.length * 8;
  const bit = (p: number) => (setup[p >> 3]! >> (p & 7)) & 1;
  const read = (bits: number): number => {
    let value = 0;
    for (let i = 0; i < bits; i++) value = (value << 1) | bit(--position);
    return value;
  };
  while (position > 0 && bit(position - 1) === 0) position--;
  if (position === 0) return undefined;
  const framing = --position;
  let count = 0;
  let found = 0;
  // At least one more mode and everything that must come before the modes (FFmpeg's bound).
  while (position >= 97 && count < 64) {
    if (read(8) > 63 || read(16) !== 0 || read(16) !== 0) break;
    read(1);
    count++;
    const modeCount = read(6) + 1;
    position += 6;
    if (modeCount === count) found = count;
  }
  if (found === 0) return undefined;
  const flags: number[] = new Array<number>(found);
  position = framing;
  for (let mode = found - 1; mode >= 0; mode--) {
    position -= 40;
    flags[mode] = bit(--position);
  }
  return flags;
}

/** Xiph lacing of the three Vorbis headers: the description WebCodecs expects for "vorbis". */
export function xiphLace(packets: Uint8Array[]): Uint8Array {
  const sizes: number[] = [packets.length - 1];
  for (const packet of packets.slice(0, -1)) {
    let n = packet.length;
    for (; n >= 255; n -= 255) sizes.push(255);
    sizes.push(n);
  }
  const out = new Uint8Array(sizes.length + packets.reduce((sum, p) => sum + p.length, 0));
  out.set(sizes);
  let at = sizes.length;
  for (const packet of packets) out.set(packet, at), (at += packet.length);
  return out;
}
