/**
 * Test support, never shipped: FLAC and Ogg (Opus, Vorbis) frames as codec-parser (eshaz,
 * LGPL-3.0) cuts them, the reference the tests hold flac-source.ts and ogg-source.ts to. It adds
 * what codec-parser lacks to be a FrameSource: WebCodecs decoder configs, Opus pre-skip and
 * multi-page comment headers, Ogg end trim, file offsets of frames, and a count of the bytes
 * it skipped.
 */
import CodecParser from 'codec-parser';
import type { CodecFrame, OggPage, OpusHeader, VorbisHeader } from 'codec-parser';
import type { FrameSink, FrameSource, TrackInfo } from './frame-source.js';
import { xiphLace } from './ogg-source.js';

/** codec-parser keeps its file position private; it is the end of the frame just yielded. */
interface ParserPosition {
  _currentReadPosition: number;
}

export class CodecParserReference implements FrameSource {
  readonly #sink: FrameSink;
  readonly #format: 'flac' | 'ogg';
  readonly #parser: CodecParser;
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
  constructor(format: 'flac' | 'ogg', sink: FrameSink) {
    this.#format = format;
    this.#sink = sink;
    // The codec as soon as it is known: codec-parser's own `codec` reads "" again after flush(),
    // which is when a file of one audio page (a short sound) yields it.
    this.#parser = new CodecParser(format === 'flac' ? 'audio/flac' : 'audio/ogg', { enableFrameCRC32: false, onCodec: (codec) => (this.#codec = codec) });
  }

  get bufferedBytes(): number {
    // After flush() the parser's position restarts at 0: bytesIn minus it would count the whole
    // file as still buffered.
    if (this.#flushed) return 0;
    return this.#bytesIn - this.#position();
  }

  push(input: Uint8Array): void {
    this.#feed(input);
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
    this.#run(() => this.#parser.flush(), true);
    this.#flushed = true;
  }

  #position(): number {
    return (this.#parser as unknown as ParserPosition)._currentReadPosition;
  }

  #run(frames: () => Iterator<CodecFrame | OggPage>, flushing = false): void {
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

  #frame(frame: CodecFrame, flushing: boolean): void {
    const fileOffset = this.#locate(frame.data.length, flushing);
    if (!this.#track) this.#announce(frame, { skip: 0, skipAlreadyCounted: 0, totalFrames: this.#flacTotal() });
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
    frame: CodecFrame,
    trim: Pick<TrackInfo, 'skip' | 'skipAlreadyCounted' | 'totalFrames' | 'uncertainSkip'>,
    description?: Uint8Array,
  ): void {
    const header = frame.header;
    const codec = this.#codec || this.#parser.codec;
    const config: AudioDecoderConfig = {
      codec, // "flac", "opus", "vorbis"
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
