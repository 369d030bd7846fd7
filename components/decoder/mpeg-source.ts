/**
 * Frames of MP3 and AAC/ADTS, cut by our MpegFramer (codec-parser's rules at a fraction of its
 * cost; codec-parser itself remains only the tests' reference, codec-parser-reference.ts). This
 * source adds what a framer lacks: the info frame (Xing/LAME/VBRI) and its trim, the tags after
 * an MP3's audio, WebCodecs decoder configs, file offsets of frames, and a count of the bytes it
 * skipped.
 */
import type { FrameSink, FrameSource, TrackInfo } from './frame-source.js';
import { concatBytes } from './byte-queue.js';
import { MpegFramer, type MpegFrameSink } from './mpeg-framer.js';
import { mpegFrameLayout, mpegTrim, readMpegInfoFrame, type MpegInfoFrame } from './mpeg-gapless.js';

export class MpegSource implements FrameSource {
  readonly #sink: FrameSink;
  readonly #format: 'mpeg' | 'adts';
  readonly #parser: MpegFramer;
  #bytesIn = 0;
  /** End offset of the last frame emitted (or undefined before the first). */
  #lastEnd: number | undefined;
  #track: TrackInfo | undefined;
  /** end() ran: everything is out. */
  #flushed = false;
  /** MP3 only: the last bytes received, held back from the parser (an ID3v1 tag would be there). */
  #tail = new Uint8Array(0);
  /** MP3 only: everything from the signature of a tag after the audio on, held back until end(). */
  #tagBytes: Uint8Array[] | undefined;
  #tagLength = 0;
  #mpegInfo: MpegInfoFrame | undefined;
  #mpegAudioFrames = 0;
  /** The last MP3 audio frame (its header and length make the flushing frame of silence). */
  #lastMpegData: Uint8Array | undefined;
  #lastMpegSamples = 0;
  readonly #onFrame: MpegFrameSink = (data, samples, sampleRate, channels) => this.#frame(data, samples, sampleRate, channels, false);
  readonly #onLastFrames: MpegFrameSink = (data, samples, sampleRate, channels) => this.#frame(data, samples, sampleRate, channels, true);

  constructor(format: 'mpeg' | 'adts', sink: FrameSink) {
    this.#format = format;
    this.#sink = sink;
    this.#parser = new MpegFramer(format === 'mpeg' ? 'mpeg' : 'aac');
  }

  get bufferedBytes(): number {
    if (this.#flushed) return 0;
    return this.#bytesIn - this.#parser._currentReadPosition + this.#tail.length + this.#tagLength;
  }

  push(input: Uint8Array): void {
    if (this.#format !== 'mpeg') return this.#feed(input);
    // After the audio of an MP3 come its tags (APEv2, Lyrics3v2, ID3v1). The framer would take
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
    if (bytes.length === 0) return;
    this.#bytesIn += bytes.length;
    this.#parser.push(bytes, this.#onFrame);
  }

  end(): void {
    if (this.#flushed) return;
    // Tags at the end of an MP3 (ID3v1, APEv2, Lyrics3): the framer would take them for damage
    // after the last frame and drop that frame with them, so it never sees them.
    const tail = concatBytes(this.#tail, ...(this.#tagBytes ?? []));
    this.#tail = new Uint8Array(0);
    this.#tagBytes = undefined;
    this.#tagLength = 0;
    this.#feed(this.#format === 'mpeg' ? withoutTrailingTags(tail) : tail);
    this.#parser.end(this.#onLastFrames);
    this.#flushed = true;
    this.#flushMpegFilterbank();
  }

  /**
   * The MPEG decoder's output lags its input by 529 samples, so when LAME's padding is shorter
   * than that, the last real samples are still inside the decoder after the last frame. A frame of
   * silence (same header, zero side info and data) pushes them out; the trim drops the rest.
   */
  #flushMpegFilterbank(): void {
    const last = this.#lastMpegData;
    // Only for a complete stream: a damaged or truncated one ends where its audio ends.
    if (!last || !this.#mpegInfo?.frameCount || this.#mpegAudioFrames !== this.#mpegInfo.frameCount) return;
    const silent = new Uint8Array(last.length);
    silent.set(last.subarray(0, 4));
    silent[1]! |= 1; // no CRC: zero side info needs none
    this.#sink.frame({ data: silent, samples: this.#lastMpegSamples, fileOffset: this.#bytesIn });
  }

  /** Where the frame just cut starts; reports the bytes skipped since the previous one. */
  #locate(length: number, flushing: boolean): number {
    // The framer's position is that of its last frame; a frame flush() yields ends where input ends.
    const end = flushing ? this.#bytesIn : this.#parser._currentReadPosition;
    const start = flushing ? (this.#lastEnd ?? end - length) : end - length;
    // Bytes before the first frame are tags (ID3v2): not damage.
    if (this.#lastEnd !== undefined && start > this.#lastEnd) this.#sink.skipped(start - this.#lastEnd);
    this.#lastEnd = end;
    return start;
  }

  #frame(data: Uint8Array, samples: number, sampleRate: number, channels: number, flushing: boolean): void {
    const fileOffset = this.#locate(data.length, flushing);
    if (!this.#track) {
      if (this.#format === 'mpeg') {
        const layout = mpegFrameLayout(data);
        const info = readMpegInfoFrame(data);
        const trim = mpegTrim(info, layout?.samplesPerFrame ?? samples);
        this.#announce(data, sampleRate, channels, { skip: trim.skip, skipAlreadyCounted: 0, totalFrames: trim.totalFrames });
        this.#mpegInfo = info;
        if (info) return; // the info frame holds no audio
      } else {
        this.#announce(data, sampleRate, channels, { skip: 0, skipAlreadyCounted: 0 });
      }
    }
    if (this.#format === 'mpeg') (this.#lastMpegData = data), (this.#lastMpegSamples = samples), this.#mpegAudioFrames++;
    this.#sink.frame({ data, samples, fileOffset });
  }

  #announce(firstFrame: Uint8Array, sampleRate: number, channels: number, trim: Pick<TrackInfo, 'skip' | 'skipAlreadyCounted' | 'totalFrames'>): void {
    const codec = this.#parser.codec;
    const config: AudioDecoderConfig = {
      codec: codec === 'mpeg' ? 'mp3' : adtsCodecName(firstFrame),
      sampleRate,
      numberOfChannels: channels,
    };
    this.#track = {
      codec,
      sampleRate,
      channelCount: channels,
      decoding: { kind: 'webcodecs', config },
      ...trim,
    };
    if (this.#track.totalFrames === undefined) delete this.#track.totalFrames;
    this.#sink.track(this.#track);
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

/** ADTS profile (2 bits) + 1 = MPEG-4 audio object type; no description means ADTS framing. */
function adtsCodecName(firstFrame: Uint8Array): string {
  return `mp4a.40.${((firstFrame[2] ?? 0x40) >> 6) + 1}`;
}
