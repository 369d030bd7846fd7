/**
 * RIFF/WAVE (and RF64) read as it arrives: `fmt ` and `data` in any order with any other chunks
 * around them; PCM integer 8/16/24/32-bit, IEEE float 32/64 or G.711 mu-law/A-law, plain or
 * WAVE_FORMAT_EXTENSIBLE.
 * Frames are fixed blocks of samples; the PCM "decoder" converts them to float directly.
 */
import { QueuedFrameSource, type PcmSampleFormat } from './frame-source.js';

/** Sample frames per emitted block: ~0.1 s at 44.1 kHz, small enough for a fast first PCM. */
export const WAV_BLOCK_FRAMES = 4096;

interface WavFormat {
  sampleFormat: PcmSampleFormat;
  bits: number;
  channels: number;
  sampleRate: number;
  blockAlign: number;
}

export class WavSource extends QueuedFrameSource {
  #state: 'riff' | 'chunk-header' | 'chunk-body' | 'data' | 'done' = 'riff';
  #chunkId = '';
  #chunkLeft = 0;
  #format: WavFormat | undefined;
  /** A `data` chunk seen before `fmt `: its bytes wait here (rare, but legal). */
  #early: { offset: number; size: number } | undefined;
  #announced = false;
  #rf64DataSize: number | undefined;

  end(): void {
    this.parse(true);
  }

  protected parse(final: boolean): void {
    for (;;) {
      if (this.#state === 'done') return;
      if (this.#state === 'riff') {
        const head = this.queue.read(12);
        if (!head) return;
        this.#state = 'chunk-header';
        continue;
      }
      if (this.#state === 'chunk-header') {
        const head = this.queue.read(8);
        if (!head) return;
        this.#chunkId = String.fromCharCode(...head.subarray(0, 4));
        this.#chunkLeft = new DataView(head.buffer, head.byteOffset, 8).getUint32(4, true);
        if (this.#chunkId === 'data') {
          if (this.#rf64DataSize !== undefined && this.#chunkLeft === 0xffffffff) this.#chunkLeft = this.#rf64DataSize;
          if (!this.#format) {
            // data before fmt: keep reading other chunks is impossible without skipping audio;
            // the stream cannot be played progressively, so wait for it all (bounded by the file).
            this.#early = { offset: this.queue.offset, size: this.#chunkLeft };
            this.#state = 'chunk-body';
            continue;
          }
          this.#startData();
          continue;
        }
        this.#chunkLeft += this.#chunkLeft & 1; // chunks are padded to even sizes
        this.#state = 'chunk-body';
        continue;
      }
      if (this.#state === 'chunk-body') {
        if (this.#chunkId === 'fmt ' || this.#chunkId === 'ds64') {
          const body = this.queue.read(this.#chunkLeft);
          if (!body) {
            if (final) this.#fail('WAV header is truncated');
            return;
          }
          if (this.#chunkId === 'ds64') {
            const view = new DataView(body.buffer, body.byteOffset, body.length);
            this.#rf64DataSize = Number(view.getBigUint64(8, true));
          } else if (!this.#readFormat(body)) return;
          this.#state = 'chunk-header';
          continue;
        }
        if (this.#early) {
          this.#fail('WAV data before its fmt chunk cannot be streamed');
          return;
        }
        const skipped = this.queue.skip(this.#chunkLeft);
        this.#chunkLeft -= skipped;
        if (this.#chunkLeft > 0) return;
        this.#state = 'chunk-header';
        continue;
      }
      // 'data'
      this.#emitBlocks(final);
      return;
    }
  }

  #startData(): void {
    const format = this.#format!;
    // 0 or 0xFFFFFFFF: a writer that did not know the length (streamed WAV): read to the end.
    const known = this.#chunkLeft > 0 && this.#chunkLeft !== 0xffffffff;
    if (!known) this.#chunkLeft = Number.POSITIVE_INFINITY;
    if (!this.#announced) {
      this.#announced = true;
      const totalFrames = known ? Math.floor(this.#chunkLeft / format.blockAlign) : undefined;
      this.sink.track({
        codec: 'pcm',
        sampleRate: format.sampleRate,
        channelCount: format.channels,
        decoding: { kind: 'pcm', sampleFormat: format.sampleFormat, bitsPerSample: format.bits },
        skip: 0,
        skipAlreadyCounted: 0,
        ...(totalFrames !== undefined ? { totalFrames } : {}),
      });
    }
    this.#state = 'data';
  }

  #emitBlocks(final: boolean): void {
    const { blockAlign } = this.#format!;
    const blockBytes = WAV_BLOCK_FRAMES * blockAlign;
    for (;;) {
      const want = Math.min(blockBytes, this.#chunkLeft);
      let take = want;
      if (this.queue.length < want) {
        if (!final) return;
        take = this.queue.length - (this.queue.length % blockAlign); // truncated file: whole frames
      }
      if (take <= 0) {
        this.#state = 'done';
        return;
      }
      const fileOffset = this.queue.offset;
      const data = this.queue.read(take)!;
      this.#chunkLeft -= take;
      this.sink.frame({ data, samples: take / blockAlign, fileOffset });
      if (this.#chunkLeft <= 0) {
        this.#state = 'done'; // chunks after the audio (LIST, id3) are of no interest
        return;
      }
    }
  }

  #readFormat(body: Uint8Array): boolean {
    const view = new DataView(body.buffer, body.byteOffset, body.length);
    if (body.length < 16) return this.#fail('WAV fmt chunk is too short');
    let tag = view.getUint16(0, true);
    const channels = view.getUint16(2, true);
    const sampleRate = view.getUint32(4, true);
    const blockAlign = view.getUint16(12, true);
    const bits = view.getUint16(14, true);
    if (tag === 0xfffe && body.length >= 26) tag = view.getUint16(24, true); // sub-format GUID's first two bytes
    const sampleFormat: PcmSampleFormat | undefined =
      tag === 3 ? 'float' : tag === 1 ? (bits === 8 ? 'uint' : 'int') : tag === 7 ? 'mulaw' : tag === 6 ? 'alaw' : undefined;
    const validBits = sampleFormat === 'float' ? [32, 64] : sampleFormat === 'mulaw' || sampleFormat === 'alaw' ? [8] : [8, 16, 24, 32];
    if (!sampleFormat || !validBits.includes(bits) || channels === 0 || sampleRate === 0 || blockAlign !== (bits / 8) * channels) {
      const name = WAV_CODECS[tag] ?? `format tag ${tag}`;
      return this.#fail(`WAV ${name} with ${bits}-bit samples is not supported (PCM, float, mu-law and A-law are)`);
    }
    this.#format = { sampleFormat, bits, channels, sampleRate, blockAlign };
    return true;
  }

  #fail(reason: string): false {
    this.#state = 'done';
    this.sink.unsupported(reason);
    return false;
  }
}

/** Interleaved little-endian PCM → planar float, as the `pcm` decoding of a track describes. */
export function pcmToPlanar(
  data: Uint8Array,
  channelCount: number,
  sampleFormat: PcmSampleFormat,
  bits: number,
): Float32Array[] {
  const bytes = bits / 8;
  const frames = Math.floor(data.length / (bytes * channelCount));
  const out = Array.from({ length: channelCount }, () => new Float32Array(frames));
  if (sampleFormat === 'mulaw' || sampleFormat === 'alaw') {
    const table = sampleFormat === 'mulaw' ? (MULAW ??= g711Table(mulawToLinear)) : (ALAW ??= g711Table(alawToLinear));
    for (let f = 0, at = 0; f < frames; f++) {
      for (let c = 0; c < channelCount; c++, at++) out[c]![f] = table[data[at]!]!;
    }
    return out;
  }
  // The common formats through a typed-array view (about 4× fewer instructions per sample than a
  // DataView read through a closure); only a little-endian host reads WAV's byte order natively.
  const aligned = LITTLE_ENDIAN_HOST && data.byteOffset % bytes === 0;
  if (aligned && sampleFormat === 'int' && bits === 16) {
    deinterleave(new Int16Array(data.buffer, data.byteOffset, frames * channelCount), out, 1 / 32768);
    return out;
  }
  if (aligned && sampleFormat === 'float' && bits === 32) {
    deinterleave(new Float32Array(data.buffer, data.byteOffset, frames * channelCount), out, 1);
    return out;
  }
  const view = new DataView(data.buffer, data.byteOffset, data.length);
  const read: (at: number) => number =
    sampleFormat === 'float'
      ? bits === 32
        ? (at) => view.getFloat32(at, true)
        : (at) => view.getFloat64(at, true)
      : bits === 8
        ? (at) => (view.getUint8(at) - 128) / 128
        : bits === 16
          ? (at) => view.getInt16(at, true) / 32768
          : bits === 24
            ? (at) => ((view.getUint8(at) | (view.getUint8(at + 1) << 8) | (view.getInt8(at + 2) << 16)) / 8388608)
            : (at) => view.getInt32(at, true) / 2147483648;
  for (let f = 0, at = 0; f < frames; f++) {
    for (let c = 0; c < channelCount; c++, at += bytes) out[c]![f] = read(at);
  }
  return out;
}

const LITTLE_ENDIAN_HOST = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

function deinterleave(samples: Int16Array | Float32Array, out: Float32Array[], scale: number): void {
  const channels = out.length;
  for (let c = 0; c < channels; c++) {
    const plane = out[c]!;
    for (let f = 0, at = c; f < plane.length; f++, at += channels) plane[f] = samples[at]! * scale;
  }
}

/** The codecs of WAV files met in practice that we do not decode, for a clearer refusal. */
const WAV_CODECS: Record<number, string> = { 2: 'MS ADPCM', 0x11: 'IMA ADPCM', 0x31: 'GSM 6.10', 0x50: 'MPEG', 0x55: 'MP3', 0x161: 'WMA' };

let MULAW: Float32Array | undefined;
let ALAW: Float32Array | undefined;

function g711Table(decode: (byte: number) => number): Float32Array {
  return Float32Array.from({ length: 256 }, (_, byte) => decode(byte) / 32768);
}

/** G.711 mu-law byte → 16-bit linear (as ffmpeg's pcm_mulaw decodes it). */
function mulawToLinear(byte: number): number {
  const u = ~byte & 0xff;
  const t = (((u & 0x0f) << 3) + 0x84) << ((u & 0x70) >> 4);
  return u & 0x80 ? 0x84 - t : t - 0x84;
}

/** G.711 A-law byte → 16-bit linear (as ffmpeg's pcm_alaw decodes it). */
function alawToLinear(byte: number): number {
  const a = byte ^ 0x55;
  const segment = (a & 0x70) >> 4;
  let t = a & 0x0f;
  t = segment ? (t + t + 1 + 32) << (segment + 2) : (t + t + 1) << 3;
  return a & 0x80 ? t : -t;
}
