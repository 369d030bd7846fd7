/**
 * Frames of MP3 and AAC/ADTS, cut by our MpegFramer with the API and rules of codec-parser
 * (eshaz, LGPL-3.0), which it replaced; FLAC and Ogg through codec-parser itself are kept only as
 * the reference the tests hold flac-source.ts and ogg-source.ts to (createFrameSource never builds
 * them). This adapter adds what a framer lacks: the info frame (Xing/LAME/VBRI) and its trim,
 * WebCodecs decoder configs, file offsets of frames, and a count of the bytes it skipped.
 */
import CodecParser from 'codec-parser';
import type { CodecFrame, MimeType, OggPage, OpusHeader, VorbisHeader } from 'codec-parser';
import type { FrameSink, FrameSource, TrackInfo } from './frame-source.js';
import type { ContainerFormat } from './format-sniffer.js';
import { concatBytes } from './byte-queue.js';
import { MpegFramer, type MpegFrame } from './mpeg-framer.js';
import { xiphLace } from './ogg-source.js';
import { mpegFrameLayout, mpegTrim, readMpegInfoFrame, type MpegInfoFrame } from './mpeg-gapless.js';

const PARSER_MIME: Partial<Record<ContainerFormat, MimeType>> = {
  mpeg: 'audio/mpeg',
  adts: 'audio/aac',
  flac: 'audio/flac',
  ogg: 'audio/ogg',
};

/** A codec frame as either parser yields it. */
type Frame = CodecFrame | MpegFrame;

/** codec-parser keeps its file position private; it is the end of the frame just yielded. */
interface ParserPosition {
  _currentReadPosition: number;
}

export class CodecParserSource implements FrameSource {
  readonly #sink: FrameSink;
  readonly #format: ContainerFormat;
  /** MP3 and ADTS: our own framer (same frames, a tenth of the cost); the rest: codec-parser. */
  readonly #parser: CodecParser | MpegFramer;
  #bytesIn = 0;
  /** End offset of the last frame emitted (or undefined before the first). */
  #lastEnd: number | undefined;
  #track: TrackInfo | undefined;
  #failed = false;
  /** end() ran: the parser has yielded everything (and reset its read position to 0). */
  #flushed = false;
  /** The first bytes of a native FLAC file: its STREAMINFO block is the decoder description. */
  #flacHead = new Uint8Array(0);
  #codec = '';
  #opusPreSkip = 0;
  /** The Ogg stream's last page came: what follows (a chained stream) is not played. */
  #oggEnded = false;
  /** Opus pre-skip samples codec-parser subtracted from a header packet (see #opusSamples), still to subtract. */
  #opusSkipOwed = 0;
  /** MP3 only: the last bytes received, held back from the parser (an ID3v1 tag would be there). */
  #tail = new Uint8Array(0);
  /** MP3 only: everything from the signature of a tag after the audio on, held back until end(). */
  #tagBytes: Uint8Array[] | undefined;
  #tagLength = 0;
  #mpegInfo: MpegInfoFrame | undefined;
  #mpegAudioFrames = 0;
  #lastMpegFrame: Frame | undefined;

  constructor(format: ContainerFormat, sink: FrameSink) {
    const mime = PARSER_MIME[format];
    if (!mime) throw new Error(`codec-parser does not read ${format}`);
    this.#format = format;
    this.#sink = sink;
    // The codec as soon as it is known: codec-parser's own `codec` reads "" again after flush(),
    // which is when a file of one audio page (a short sound) yields it.
    this.#parser =
      format === 'mpeg' || format === 'adts' ? new MpegFramer(format === 'mpeg' ? 'mpeg' : 'aac') : new CodecParser(mime, { enableFrameCRC32: false, onCodec: (codec) => (this.#codec = codec) });
  }

  get bufferedBytes(): number {
    // After flush() the parser's position restarts at 0: bytesIn minus it would count the whole
    // file as still buffered.
    if (this.#flushed) return 0;
    return this.#bytesIn - this.#position() + this.#tail.length + this.#tagLength;
  }

  push(input: Uint8Array): void {
    if (this.#failed) return;
    if (this.#format !== 'mpeg') return this.#feed(input);
    // After the audio of an MP3 come its tags (APEv2, Lyrics3v2, ID3v1). codec-parser would take
    // them for damage after the last frame and drop that frame with them, so they never reach it:
    // from a tag's signature on, bytes wait for end(); so do the last 128 bytes (an ID3v1 tag has
    // no signature before them), without copying the chunk.
    if (this.#tagBytes) return void (this.#tagBytes.push(input.slice()), (this.#tagLength += input.length));
    const held = this.#tail;
    const at = tagStart(held, input);
    if (at >= 0) {
      const all = concatBytes(held, input);
      this.#tail = new Uint8Array(0);
      this.#tagBytes = [all.slice(at)];
      this.#tagLength = all.length - at;
      this.#feed(all.subarray(0, at));
      return;
    }
    if (input.length >= ID3V1_LENGTH) {
      this.#feed(held);
      this.#tail = input.slice(input.length - ID3V1_LENGTH);
      this.#feed(input.subarray(0, input.length - ID3V1_LENGTH));
    } else {
      const all = concatBytes(held, input);
      this.#tail = all.slice(Math.max(0, all.length - ID3V1_LENGTH));
      this.#feed(all.subarray(0, all.length - this.#tail.length));
    }
  }

  #feed(bytes: Uint8Array): void {
    if (bytes.length === 0 || this.#failed) return;
    this.#bytesIn += bytes.length;
    if (this.#format === 'flac' && this.#flacHead.length < 42) {
      const head = new Uint8Array(Math.min(42, this.#flacHead.length + bytes.length));
      head.set(this.#flacHead);
      head.set(bytes.subarray(0, head.length - this.#flacHead.length), this.#flacHead.length);
      this.#flacHead = head;
    }
    this.#run(() => this.#parser.parseChunk(bytes));
  }

  end(): void {
    if (this.#failed) return;
    // Tags at the end of an MP3 (ID3v1, APEv2, Lyrics3): codec-parser would take them for
    // damage after the last frame and drop that frame with them, so it never sees them.
    const tail = concatBytes(this.#tail, ...(this.#tagBytes ?? []));
    this.#tail = new Uint8Array(0);
    this.#tagBytes = undefined;
    this.#tagLength = 0;
    this.#feed(this.#format === 'mpeg' ? withoutTrailingTags(tail) : tail);
    this.#run(() => this.#parser.flush(), true);
    this.#flushed = true;
    this.#flushMpegFilterbank();
  }

  /**
   * The MPEG decoder's output lags its input by 529 samples, so when LAME's padding is shorter
   * than that, the last real samples are still inside the decoder after the last frame. A frame of
   * silence (same header, zero side info and data) pushes them out; the trim drops the rest.
   */
  #flushMpegFilterbank(): void {
    const last = this.#lastMpegFrame;
    // Only for a complete stream: a damaged or truncated one ends where its audio ends.
    if (!last || !this.#mpegInfo?.frameCount || this.#mpegAudioFrames !== this.#mpegInfo.frameCount) return;
    const silent = new Uint8Array(last.data.length);
    silent.set(last.data.subarray(0, 4));
    silent[1]! |= 1; // no CRC: zero side info needs none
    this.#sink.frame({ data: silent, samples: last.samples, fileOffset: this.#bytesIn });
  }

  #position(): number {
    return (this.#parser as unknown as ParserPosition)._currentReadPosition;
  }

  #run(frames: () => Iterator<Frame | OggPage>, flushing = false): void {
    try {
      const iterator = frames();
      for (let next = iterator.next(); !next.done && next.value; next = iterator.next()) {
        const item = next.value;
        if ('codecFrames' in item) this.#page(item, flushing);
        else this.#frame(item, flushing);
      }
    } catch (error) {
      this.#failed = true;
      this.#sink.unsupported(`codec-parser: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** Where the item just yielded starts; reports the bytes skipped since the previous one. */
  #locate(length: number, flushing: boolean): number {
    // After flush() codec-parser resets its position; the last item then ends where input ends.
    const end = flushing ? this.#bytesIn : this.#position();
    const start = flushing ? (this.#lastEnd ?? end - length) : end - length;
    // Bytes before the first frame are tags/headers (ID3v2, FLAC metadata): not damage.
    if (this.#lastEnd !== undefined && start > this.#lastEnd) this.#sink.skipped(start - this.#lastEnd);
    this.#lastEnd = flushing ? end : end;
    return start;
  }

  #frame(frame: Frame, flushing: boolean): void {
    const fileOffset = this.#locate(frame.data.length, flushing);
    if (!this.#track) {
      if (this.#format === 'mpeg') {
        const layout = mpegFrameLayout(frame.data);
        const info = readMpegInfoFrame(frame.data);
        const trim = mpegTrim(info, layout?.samplesPerFrame ?? frame.samples);
        this.#announce(frame, { skip: trim.skip, skipAlreadyCounted: 0, totalFrames: trim.totalFrames });
        this.#mpegInfo = info;
        if (info) return; // the info frame holds no audio
      } else {
        this.#announce(frame, { skip: 0, skipAlreadyCounted: 0, totalFrames: this.#flacTotal() });
      }
    }
    if (this.#format === 'mpeg') (this.#lastMpegFrame = frame), this.#mpegAudioFrames++;
    this.#sink.frame({ data: frame.data, samples: frame.samples, fileOffset });
  }

  #page(page: OggPage, flushing: boolean): void {
    const fileOffset = this.#locate((page as OggPage & { rawData: Uint8Array }).rawData.length, flushing);
    // A chained Ogg file (streams one after another: `cat a.ogg b.ogg`, radio recordings) ends
    // with its first stream: the next one's audio would follow the first's end padding, which
    // the decoder has no way to drop in mid-stream, and its headers may need another decoder.
    if (this.#oggEnded) return;
    for (const frame of page.codecFrames) {
      let samples = frame.samples;
      if (this.#codec === 'opus') {
        const fixed = this.#opusSamples(frame);
        if (fixed === undefined) continue;
        samples = fixed;
      }
      if (!this.#track) this.#announceOgg(frame, samples);
      if (this.#failed) return;
      this.#sink.frame({ data: frame.data, samples, fileOffset });
    }
    if (page.isLastPage && this.#track) {
      const granule = Number(page.absoluteGranulePosition);
      const total = this.#codec === 'opus' ? granule - this.#opusPreSkip : granule;
      if (total > 0) this.#sink.totalFrames(total);
      this.#oggEnded = true;
    }
  }

  /**
   * codec-parser takes only page 1 for the OpusTags header: one that spans several pages (cover
   * art in METADATA_BLOCK_PICTURE) ends on a later page and comes out as an audio packet, and
   * the pre-skip goes to it. Such a packet is dropped (undefined) and the pre-skip it took is
   * taken from the real audio packets after it.
   */
  #opusSamples(frame: CodecFrame): number | undefined {
    const d = frame.data;
    // Only before the first audio packet (the track is announced on it): no string per packet.
    if (!this.#track && d.length >= 8 && String.fromCharCode(...d.subarray(0, 8)) === 'OpusTags') {
      const header = frame.header as OpusHeader;
      const duration = ((header.frameSize * header.frameCount) / 1000) * header.sampleRate;
      // It comes before any audio packet, so codec-parser's pre-skip count started on it.
      this.#opusSkipOwed = Math.min(header.preSkip, duration);
      return undefined;
    }
    const owed = Math.min(this.#opusSkipOwed, frame.samples);
    this.#opusSkipOwed -= owed;
    return frame.samples - owed;
  }

  #announceOgg(frame: CodecFrame, samples: number): void {
    const codec = this.#codec;
    if (codec === 'opus') {
      const header = frame.header as OpusHeader;
      this.#opusPreSkip = header.preSkip;
      // codec-parser already leaves pre-skip out of the first frame's `samples`.
      // Chromium's decoders (WebCodecs and decodeAudioData alike) drop the OpusHead pre-skip
      // themselves, and codec-parser leaves it out of the first frame's `samples`: no trim here.
      this.#announce(
        frame,
        { skip: 0, skipAlreadyCounted: 0, uncertainSkip: { samples: header.preSkip, firstFrameSamples: samples } },
        header.data,
      );
    } else if (codec === 'vorbis') {
      const header = frame.header as VorbisHeader;
      this.#announce(frame, { skip: 0, skipAlreadyCounted: 0 }, xiphLace([header.data, header.vorbisComments, header.vorbisSetup]));
    } else {
      this.#failed = true;
      this.#sink.unsupported(`Ogg ${codec || 'stream'} is not supported`);
    }
  }

  #announce(
    frame: Frame,
    trim: Pick<TrackInfo, 'skip' | 'skipAlreadyCounted' | 'totalFrames' | 'uncertainSkip'>,
    description?: Uint8Array,
  ): void {
    const header = frame.header;
    const codec = this.#codec || this.#parser.codec;
    const config: AudioDecoderConfig = {
      codec: webCodecsName(codec, frame.data),
      sampleRate: header.sampleRate,
      numberOfChannels: header.channels,
    };
    if (codec === 'flac') description = this.#flacDescription();
    if (description) config.description = description;
    this.#track = {
      codec,
      sampleRate: header.sampleRate,
      channelCount: header.channels,
      decoding: { kind: 'webcodecs', config },
      ...trim,
    };
    if (this.#track.totalFrames === undefined) delete this.#track.totalFrames;
    if (this.#track.uncertainSkip === undefined) delete this.#track.uncertainSkip;
    this.#sink.track(this.#track);
  }

  /** WebCodecs wants "fLaC" + the STREAMINFO metadata block (42 bytes). */
  #flacDescription(): Uint8Array | undefined {
    const head = this.#flacHead;
    if (head.length < 42 || (head[4]! & 0x7f) !== 0) return undefined;
    const description = head.slice(0, 42);
    description[4] = 0x80; // mark STREAMINFO as the last metadata block
    return description;
  }

  /** STREAMINFO's 36-bit total sample count (0 = unknown). */
  #flacTotal(): number | undefined {
    if (this.#format !== 'flac') return undefined;
    const s = this.#flacHead;
    if (s.length < 42) return undefined;
    const at = 8 + 13; // STREAMINFO body starts at 8; total samples in its bits 108..143
    const total = (s[at]! & 0x0f) * 2 ** 32 + ((s[at + 1]! << 24) | (s[at + 2]! << 16) | (s[at + 3]! << 8) | s[at + 4]!) >>> 0;
    return total > 0 ? total : undefined;
  }
}

const ID3V1_LENGTH = 128;
/** Signatures that open a tag after the audio: APEv2 with its header (as taggers write it), Lyrics3v2. */
const TAG_SIGNATURES = ['APETAGEX', 'LYRICSBEGIN'].map((text) => Uint8Array.from(text, (c) => c.charCodeAt(0)));

/** Where in `held` + `input` the first tag signature starts, or -1 (a search of `input` itself, and of the join). */
function tagStart(held: Uint8Array, input: Uint8Array): number {
  let best = -1;
  for (const signature of TAG_SIGNATURES) {
    // A signature that starts in the last bytes of `held` and ends in `input`: search the join.
    const keep = Math.min(held.length, signature.length - 1);
    const inJoin = indexOfBytes(concatBytes(held.subarray(held.length - keep), input.subarray(0, signature.length - 1)), signature);
    const inInput = inJoin >= 0 && inJoin < keep ? -1 : indexOfBytes(input, signature);
    const at = inJoin >= 0 && inJoin < keep ? held.length - keep + inJoin : inInput < 0 ? -1 : held.length + inInput;
    if (at >= 0 && (best < 0 || at < best)) best = at;
  }
  return best;
}

/**
 * First index of `pattern` in `bytes`, or -1. Runs on every MP3 chunk:
 * the native indexOf finds candidates for the first byte (~1 in 256 positions of compressed
 * audio) and a plain loop checks the rest (a closure per candidate cost ~3× as much).
 */
function indexOfBytes(bytes: Uint8Array, pattern: Uint8Array): number {
  const first = pattern[0]!;
  const last = bytes.length - pattern.length;
  for (let i = bytes.indexOf(first); i >= 0 && i <= last; i = bytes.indexOf(first, i + 1)) {
    let k = 1;
    while (k < pattern.length && bytes[i + k] === pattern[k]) k++;
    if (k === pattern.length) return i;
  }
  return -1;
}

/** `tail` without the ID3v1, Lyrics3v2 and APEv2 tags it ends with (in whatever order they nest). */
export function withoutTrailingTags(tail: Uint8Array): Uint8Array {
  const text = (at: number, length: number): string => String.fromCharCode(...tail.subarray(at, at + length));
  let end = tail.length;
  for (let found = true; found && end > 0; ) {
    found = false;
    if (end >= 128 && text(end - 128, 3) === 'TAG') (end -= 128), (found = true);
    if (end >= 15 && text(end - 9, 9) === 'LYRICS200') {
      // Lyrics3v2: "LYRICSBEGIN" … six ASCII digits of size (tag without them and the end marker), "LYRICS200".
      const size = Number(text(end - 15, 6));
      if (Number.isInteger(size) && size + 15 <= end) (end -= size + 15), (found = true);
    }
    if (end >= 32 && text(end - 32, 8) === 'APETAGEX') {
      const view = new DataView(tail.buffer, tail.byteOffset + end - 32, 32);
      const size = view.getUint32(12, true); // items + footer
      const hasHeader = (view.getUint32(20, true) & 0x80000000) !== 0;
      const whole = size + (hasHeader ? 32 : 0);
      if (size >= 32 && whole <= end) (end -= whole), (found = true);
    }
  }
  return tail.subarray(0, end);
}

function webCodecsName(codec: string, firstFrame: Uint8Array): string {
  switch (codec) {
    case 'mpeg':
      return 'mp3';
    case 'aac': {
      // ADTS profile (2 bits) + 1 = MPEG-4 audio object type; no description means ADTS framing.
      const objectType = ((firstFrame[2] ?? 0x40) >> 6) + 1;
      return `mp4a.40.${objectType}`;
    }
    default:
      return codec; // "flac", "opus", "vorbis"
  }
}
