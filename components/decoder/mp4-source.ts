/**
 * MP4/M4A audio read as it arrives, for files whose index (`moov`) comes before the audio
 * (`mdat`), as `-movflags +faststart` and every streaming-ready encoder write them, and for
 * fragmented MP4 (an empty `moov`, then `moof` + `mdat` pairs: DASH/CMAF, ffmpeg's
 * `frag_keyframe+empty_moov`). A small ISO-BMFF reader: the first sound track's sample table
 * (stsz/stsc/stco/co64/stts, or each fragment's tfhd/trun with the trex defaults), its decoder
 * config (esds → AudioSpecificConfig) and its edit list (encoder delay and real length).
 */
import { QueuedFrameSource, type TrackInfo } from './frame-source.js';

/** A `moov` larger than this is refused rather than buffered (a sound track's index is small). */
const MAX_MOOV_BYTES = 64 * 1024 * 1024;
/** Likewise for one fragment's index (`moof`). */
const MAX_MOOF_BYTES = 16 * 1024 * 1024;

interface Box {
  type: string;
  /** Body (after the header). */
  body: Uint8Array;
}

interface SampleTable {
  offsets: Float64Array | number[];
  sizes: Uint32Array | number[];
  durations: Uint32Array | number[];
}

/** Fragmented MP4: what the fragments of our track need from the `moov`. */
interface Fragmented {
  trackId: number;
  /** trex defaults */
  duration: number;
  size: number;
  /** Media timescale → output samples. */
  scale: number;
}

export class Mp4Source extends QueuedFrameSource {
  #boxLeft = 0; // bytes of the current skipped box still to drop
  #inMdat = false;
  #mdatEnd = Infinity;
  #table: SampleTable | undefined;
  #next = 0;
  #done = false;
  #fragmented: Fragmented | undefined;

  end(): void {
    if (!this.#done && !this.#table) this.#fail('the MP4 file ended before its sample index (moov)');
  }

  protected parse(): void {
    while (!this.#done) {
      if (this.#boxLeft > 0) {
        this.#boxLeft -= this.queue.skip(this.#boxLeft);
        if (this.#boxLeft > 0) return;
      }
      if (this.#inMdat) {
        if (!this.#emitSamples()) return;
        continue;
      }
      const header = this.queue.peek(8);
      if (!header) return;
      let size = u32(header, 0);
      const type = fourcc(header, 4);
      let headerSize = 8;
      if (size === 1) {
        const large = this.queue.peek(16);
        if (!large) return;
        size = u32(large, 8) * 2 ** 32 + u32(large, 12);
        headerSize = 16;
      }
      if (size !== 0 && size < headerSize) return this.#fail(`MP4 box "${type}" has an impossible size ${size}`);
      if (type === 'moof' && this.#fragmented) {
        if (size === 0 || size > MAX_MOOF_BYTES) return this.#fail('MP4 moof box is too large');
        const at = this.queue.offset;
        const box = this.queue.peek(size);
        if (!box) return;
        this.queue.skip(size);
        this.#readMoof(box.subarray(headerSize), at);
        continue;
      }
      if (type === 'mdat') {
        if (!this.#table) return this.#fail('MP4 with its index (moov) after the audio cannot be streamed');
        this.queue.skip(headerSize);
        this.#mdatEnd = size === 0 ? Infinity : this.queue.offset - headerSize + size;
        this.#inMdat = true;
        continue;
      }
      if (type === 'moov') {
        if (size === 0 || size > MAX_MOOV_BYTES) return this.#fail('MP4 moov box is too large');
        const box = this.queue.peek(size);
        if (!box) return;
        this.queue.skip(size);
        this.#readMoov(box.subarray(headerSize));
        continue;
      }
      if (size === 0) return this.#fail(`MP4 box "${type}" runs to the end of the file before any audio`);
      this.#boxLeft = size;
    }
  }

  /** Emits every sample whose bytes are all here; false when more bytes are needed. */
  #emitSamples(): boolean {
    const table = this.#table!;
    while (this.#next < table.sizes.length) {
      const offset = table.offsets[this.#next]!;
      const size = table.sizes[this.#next]!;
      if (offset < this.queue.offset) return this.#fail('MP4 samples are not in file order'), false;
      if (offset > this.queue.offset) {
        this.queue.skip(offset - this.queue.offset);
        if (offset > this.queue.offset) return false;
      }
      const data = this.queue.read(size);
      if (!data) return false;
      this.sink.frame({ data, samples: table.durations[this.#next]!, fileOffset: offset });
      this.#next++;
    }
    if (this.#fragmented) {
      // This fragment's samples are out: skip the rest of its mdat; the next moof follows.
      this.#inMdat = false;
      this.#boxLeft = this.#mdatEnd === Infinity ? Infinity : this.#mdatEnd - this.queue.offset;
      return true;
    }
    // All samples out: drop the rest of mdat and whatever follows.
    this.#done = true;
    this.queue.skip(Math.min(this.queue.length, this.#mdatEnd - this.queue.offset));
    return false;
  }

  /** One fragment's index: our track's runs become the samples to take from the mdat that follows. */
  #readMoof(moof: Uint8Array, moofStart: number): void {
    const fragmented = this.#fragmented!;
    const table = this.#table!;
    for (const traf of children(moof).filter((b) => b.type === 'traf')) {
      const tfhd = child(traf.body, 'tfhd');
      if (!tfhd || u32(tfhd.body, 4) !== fragmented.trackId) continue;
      const flags = u32(tfhd.body, 0) & 0xffffff;
      let at = 8;
      let base = moofStart; // default-base-is-moof, and what writers without it mean too
      if (flags & 0x01) (base = u32(tfhd.body, at) * 2 ** 32 + u32(tfhd.body, at + 4)), (at += 8);
      if (flags & 0x02) at += 4;
      let defaultDuration = fragmented.duration;
      let defaultSize = fragmented.size;
      if (flags & 0x08) (defaultDuration = u32(tfhd.body, at)), (at += 4);
      if (flags & 0x10) defaultSize = u32(tfhd.body, at);
      let offset = base;
      for (const trun of children(traf.body).filter((b) => b.type === 'trun')) {
        const runFlags = u32(trun.body, 0) & 0xffffff;
        const count = u32(trun.body, 4);
        let p = 8;
        if (runFlags & 0x01) (offset = base + i32(trun.body, p)), (p += 4);
        if (runFlags & 0x04) p += 4;
        for (let i = 0; i < count; i++) {
          let duration = defaultDuration;
          let size = defaultSize;
          if (runFlags & 0x100) (duration = u32(trun.body, p)), (p += 4);
          if (runFlags & 0x200) (size = u32(trun.body, p)), (p += 4);
          if (runFlags & 0x400) p += 4;
          if (runFlags & 0x800) p += 4;
          if (p > trun.body.length) return this.#fail('MP4 trun box is truncated');
          (table.offsets as number[]).push(offset);
          (table.sizes as number[]).push(size);
          (table.durations as number[]).push(Math.round(duration * fragmented.scale));
          offset += size;
        }
      }
    }
  }

  #readMoov(moov: Uint8Array): void {
    const mvhd = child(moov, 'mvhd');
    const movieScale = mvhd ? (mvhd.body[0] === 1 ? u32(mvhd.body, 20) : u32(mvhd.body, 12)) : 0;
    for (const trak of children(moov).filter((b) => b.type === 'trak')) {
      const mdia = child(trak.body, 'mdia');
      const hdlr = mdia && child(mdia.body, 'hdlr');
      if (!mdia || !hdlr || fourcc(hdlr.body, 8) !== 'soun') continue;
      const mdhd = child(mdia.body, 'mdhd');
      const stbl = path(mdia.body, ['minf', 'stbl']);
      if (!mdhd || !stbl) continue;
      const mediaScale = mdhd.body[0] === 1 ? u32(mdhd.body, 20) : u32(mdhd.body, 12);
      const track = this.#readSampleEntry(stbl.body);
      if (!track) return;
      const table = readSampleTable(stbl.body);
      if (!table) return this.#fail('MP4 sound track has no usable sample table');
      const trex = path(moov, ['mvex', 'trex']);
      const tkhd = child(trak.body, 'tkhd');
      if (table.sizes.length === 0 && trex && tkhd) {
        // Fragmented: the samples come in moof boxes; their durations are converted as read.
        this.#fragmented = {
          trackId: u32(tkhd.body, tkhd.body[0] === 1 ? 20 : 12),
          duration: u32(trex.body, 12),
          size: u32(trex.body, 16),
          scale: track.sampleRate / mediaScale,
        };
      }
      // Edit list: media_time = samples of encoder delay; segment_duration = real length.
      const elst = path(trak.body, ['edts', 'elst']);
      if (elst && movieScale > 0) {
        const v1 = elst.body[0] === 1;
        const count = u32(elst.body, 4);
        for (let i = 0, at = 8; i < count; i++, at += v1 ? 20 : 12) {
          const duration = v1 ? u32(elst.body, at) * 2 ** 32 + u32(elst.body, at + 4) : u32(elst.body, at);
          const mediaTime = v1 ? i32(elst.body, at + 12) : i32(elst.body, at + 4); // high word of v1 time ignored
          if (mediaTime < 0) continue; // an empty edit (a start offset), not audio
          track.skip = Math.round((mediaTime * track.sampleRate) / mediaScale);
          if (duration > 0) track.totalFrames = Math.round((duration * track.sampleRate) / movieScale);
          break;
        }
      }
      if (track.totalFrames === undefined && !this.#fragmented) {
        let total = 0;
        for (const d of table.durations) total += d;
        track.totalFrames = Math.round((total * track.sampleRate) / mediaScale) - track.skip;
      }
      if (mediaScale !== track.sampleRate && !this.#fragmented) {
        // Sample durations are in media time; the timeline counts output samples.
        for (let i = 0; i < table.durations.length; i++) table.durations[i] = Math.round((table.durations[i]! * track.sampleRate) / mediaScale);
      }
      this.#table = this.#fragmented ? { offsets: [], sizes: [], durations: [] } : table;
      this.sink.track(track);
      return;
    }
    this.#fail('MP4 file has no sound track');
  }

  #readSampleEntry(stbl: Uint8Array): TrackInfo | undefined {
    const stsd = child(stbl, 'stsd');
    if (!stsd) return void this.#fail('MP4 sound track has no stsd');
    // stsd: version/flags(4), count(4), then sample entries (boxes).
    const entry = children(stsd.body.subarray(8))[0];
    if (!entry) return void this.#fail('MP4 sound track has no sample entry');
    // AudioSampleEntry: 6 reserved + 2 data ref + 8 reserved + channels(2) + bits(2) + 4 + rate 16.16
    const channelCount = u16(entry.body, 16);
    let sampleRate = u32(entry.body, 24) >>> 16;
    const boxes = children(entry.body.subarray(28));
    const base = { channelCount, skip: 0, skipAlreadyCounted: 0 };
    if (entry.type === 'mp4a') {
      const esds = boxes.find((b) => b.type === 'esds');
      const decoderConfig = esds && readEsds(esds.body.subarray(4));
      if (!decoderConfig) return void this.#fail('MP4 mp4a entry has no decoder config');
      if (decoderConfig.objectType === 0x6b || decoderConfig.objectType === 0x69) {
        return { ...base, codec: 'mpeg', sampleRate, decoding: { kind: 'webcodecs', config: { codec: 'mp3', sampleRate, numberOfChannels: channelCount } } };
      }
      if (decoderConfig.objectType !== 0x40 || !decoderConfig.specific) {
        return void this.#fail(`MP4 audio object type 0x${decoderConfig.objectType.toString(16)} is not supported`);
      }
      const asc = decoderConfig.specific;
      const audioObjectType = asc[0]! >> 3;
      const rateIndex = ((asc[0]! & 7) << 1) | (asc[1]! >> 7);
      sampleRate = AAC_RATES[rateIndex] ?? sampleRate;
      // The AudioSpecificConfig's channel configuration is what the decoder outputs; the sample
      // entry's count is often just 2 (ffmpeg writes 2 for mono and 5.1 AAC alike).
      const configured = rateIndex === 15 ? 0 : AAC_CHANNELS[(asc[1]! >> 3) & 0x0f] ?? 0;
      const aacChannels = configured || base.channelCount;
      return {
        ...base,
        channelCount: aacChannels,
        codec: 'aac',
        sampleRate,
        decoding: { kind: 'webcodecs', config: { codec: `mp4a.40.${audioObjectType}`, sampleRate, numberOfChannels: aacChannels, description: asc } },
      };
    }
    if (entry.type === 'fLaC') {
      const dfla = boxes.find((b) => b.type === 'dfLa');
      if (!dfla) return void this.#fail('MP4 fLaC entry has no dfLa');
      const description = new Uint8Array(4 + dfla.body.length - 4);
      description.set([0x66, 0x4c, 0x61, 0x43]);
      description.set(dfla.body.subarray(4), 4);
      return { ...base, codec: 'flac', sampleRate, decoding: { kind: 'webcodecs', config: { codec: 'flac', sampleRate, numberOfChannels: channelCount, description } } };
    }
    if (entry.type === 'Opus') {
      return void this.#fail('Opus in MP4 is not supported');
    }
    return void this.#fail(`MP4 audio "${entry.type}" is not supported`);
  }

  #fail(reason: string): void {
    if (this.#done) return;
    this.#done = true;
    this.sink.unsupported(reason);
  }
}

/** Channels per AudioSpecificConfig channelConfiguration (0: defined elsewhere, a PCE). */
const AAC_CHANNELS = [0, 1, 2, 3, 4, 5, 6, 8];
const AAC_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

function readSampleTable(stbl: Uint8Array): SampleTable | undefined {
  const stsz = child(stbl, 'stsz');
  const stsc = child(stbl, 'stsc');
  const stco = child(stbl, 'stco') ?? child(stbl, 'co64');
  const stts = child(stbl, 'stts');
  if (!stsz || !stsc || !stco || !stts) return undefined;
  const fixed = u32(stsz.body, 4);
  const count = u32(stsz.body, 8);
  const sizes = new Uint32Array(count);
  for (let i = 0; i < count; i++) sizes[i] = fixed || u32(stsz.body, 12 + 4 * i);
  const durations = new Uint32Array(count);
  for (let e = 0, n = u32(stts.body, 4), s = 0; e < n; e++) {
    const run = u32(stts.body, 8 + 8 * e);
    const delta = u32(stts.body, 12 + 8 * e);
    for (let i = 0; i < run && s < count; i++) durations[s++] = delta;
  }
  const wide = stco.type === 'co64';
  const chunkCount = u32(stco.body, 4);
  const chunkOffset = (i: number): number =>
    wide ? u32(stco.body, 8 + 8 * i) * 2 ** 32 + u32(stco.body, 12 + 8 * i) : u32(stco.body, 8 + 4 * i);
  const offsets = new Float64Array(count);
  const entries = u32(stsc.body, 4);
  let sample = 0;
  for (let e = 0; e < entries; e++) {
    const first = u32(stsc.body, 8 + 12 * e) - 1;
    const perChunk = u32(stsc.body, 12 + 12 * e);
    const last = e + 1 < entries ? u32(stsc.body, 8 + 12 * (e + 1)) - 1 : chunkCount;
    for (let chunk = first; chunk < last && sample < count; chunk++) {
      let at = chunkOffset(chunk);
      for (let i = 0; i < perChunk && sample < count; i++) {
        offsets[sample] = at;
        at += sizes[sample++]!;
      }
    }
  }
  return { offsets, sizes, durations };
}

/** ES_Descriptor → DecoderConfigDescriptor (tag 4) → DecoderSpecificInfo (tag 5). */
function readEsds(bytes: Uint8Array): { objectType: number; specific?: Uint8Array } | undefined {
  let at = 0;
  const descriptor = (): { tag: number; length: number } | undefined => {
    if (at >= bytes.length) return undefined;
    const tag = bytes[at++]!;
    let length = 0;
    for (let i = 0; i < 4; i++) {
      const b = bytes[at++]!;
      length = (length << 7) | (b & 0x7f);
      if (!(b & 0x80)) break;
    }
    return { tag, length };
  };
  const es = descriptor();
  if (!es || es.tag !== 3) return undefined;
  const flags = bytes[at + 2]!;
  at += 3;
  if (flags & 0x80) at += 2;
  if (flags & 0x40) at += 1 + bytes[at]!;
  if (flags & 0x20) at += 2;
  const config = descriptor();
  if (!config || config.tag !== 4) return undefined;
  const objectType = bytes[at]!;
  at += 13;
  const specific = descriptor();
  if (specific?.tag === 5) return { objectType, specific: bytes.slice(at, at + specific.length) };
  return { objectType };
}

function children(bytes: Uint8Array): Box[] {
  const out: Box[] = [];
  for (let at = 0; at + 8 <= bytes.length; ) {
    let size = u32(bytes, at);
    let header = 8;
    if (size === 1) (size = u32(bytes, at + 8) * 2 ** 32 + u32(bytes, at + 12)), (header = 16);
    if (size === 0) size = bytes.length - at;
    if (size < header || at + size > bytes.length) break;
    out.push({ type: fourcc(bytes, at + 4), body: bytes.subarray(at + header, at + size) });
    at += size;
  }
  return out;
}

function child(bytes: Uint8Array, type: string): Box | undefined {
  return children(bytes).find((b) => b.type === type);
}

function path(bytes: Uint8Array, types: string[]): Box | undefined {
  let box: Box | undefined = { type: '', body: bytes };
  for (const type of types) box = box && child(box.body, type);
  return box;
}

const u16 = (b: Uint8Array, at: number): number => ((b[at]! << 8) | b[at + 1]!) >>> 0;
const u32 = (b: Uint8Array, at: number): number => ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
const i32 = (b: Uint8Array, at: number): number => (b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!;
const fourcc = (b: Uint8Array, at: number): string => String.fromCharCode(b[at]!, b[at + 1]!, b[at + 2]!, b[at + 3]!);
