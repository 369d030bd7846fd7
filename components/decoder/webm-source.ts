/**
 * WebM/Matroska audio read as it arrives: Opus, as browsers' MediaRecorder, ffmpeg and
 * YouTube's audio streams write it. A small EBML reader: every master element (Segment, Cluster,
 * BlockGroup) is entered rather than measured, so the unknown sizes a live recorder writes need
 * nothing special; Info and Tracks are read whole, SimpleBlocks and Blocks of the first audio
 * track become frames (all four lacings), everything else is skipped. The OpusHead in
 * CodecPrivate configures the decoder (pre-skip as in Ogg), and a block's DiscardPadding (what
 * ffmpeg writes on the last one) gives the exact end.
 */
import { QueuedFrameSource } from './frame-source.js';
import { opusFrames, opusFrameSamples } from './opus-packets.js';

const ID = {
  Segment: 0x18538067,
  Cluster: 0x1f43b675,
  BlockGroup: 0xa0,
  Block: 0xa1,
  SimpleBlock: 0xa3,
  DiscardPadding: 0x75a2,
  Tracks: 0x1654ae6b,
  TrackEntry: 0xae,
  TrackNumber: 0xd7,
  TrackType: 0x83,
  CodecID: 0x86,
  CodecPrivate: 0x63a2,
} as const;

/** Masters whose children are read one by one as they arrive. */
const ENTERED = new Set<number>([ID.Segment, ID.Cluster, ID.BlockGroup]);
/** Elements read whole and parsed (all small: an index of tracks, a block). */
const READ_WHOLE = new Set<number>([ID.Tracks, ID.SimpleBlock, ID.Block, ID.DiscardPadding]);
/** Tracks or a block larger than this is refused rather than buffered. */
const MAX_ELEMENT_BYTES = 16 * 1024 * 1024;

interface Track {
  number: number;
  preSkip: number;
}

export class WebmSource extends QueuedFrameSource {
  #skipLeft = 0;
  #track: Track | undefined;
  #done = false;
  /** Pre-skip not yet taken off the frames' sample counts (as codec-parser does for Ogg Opus). */
  #preSkipLeft = 0;
  #samples = 0;
  /** Samples of the block group being read (its DiscardPadding may come before or after its Block). */
  #groupSamples = 0;
  /** A group's DiscardPadding seen before its Block, in samples. */
  #pendingDiscard = 0;

  end(): void {
    this.parse();
    if (!this.#done && !this.#track) this.#fail('the WebM file ended before its audio track was described');
    this.#done = true;
  }

  protected parse(): void {
    while (!this.#done) {
      if (this.#skipLeft > 0) {
        this.#skipLeft -= this.queue.skip(this.#skipLeft);
        if (this.#skipLeft > 0) return;
      }
      const head = this.queue.peek(Math.min(12, this.queue.length));
      if (!head) return;
      const id = readId(head, 0);
      if (!id) {
        if (head.length >= 4) return this.#fail('WebM element ID is invalid');
        return;
      }
      const size = readSize(head, id.length);
      if (!size) {
        if (head.length >= id.length + 8) return this.#fail('WebM element size is invalid');
        return;
      }
      const headerLength = id.length + size.length;
      if (ENTERED.has(id.value)) {
        this.queue.skip(headerLength);
        if (id.value === ID.BlockGroup) (this.#groupSamples = 0), (this.#pendingDiscard = 0);
        continue;
      }
      if (size.value === undefined) return this.#fail('WebM element of unknown size is not a container');
      if (!READ_WHOLE.has(id.value)) {
        this.queue.skip(headerLength);
        this.#skipLeft = size.value;
        continue;
      }
      if (size.value > MAX_ELEMENT_BYTES) return this.#fail('WebM element is too large');
      const element = this.queue.peek(headerLength + size.value);
      if (!element) return;
      const offset = this.queue.offset;
      this.queue.skip(headerLength + size.value);
      const body = element.subarray(headerLength);
      if (id.value === ID.Tracks) this.#readTracks(body);
      else if (id.value === ID.DiscardPadding) this.#discard(body);
      else this.#readBlock(body, offset, id.value === ID.Block);
    }
  }

  #readTracks(tracks: Uint8Array): void {
    if (this.#track) return;
    for (const entry of elements(tracks)) {
      if (entry.id !== ID.TrackEntry) continue;
      const fields = new Map(elements(entry.body).map((e) => [e.id, e.body]));
      if (uint(fields.get(ID.TrackType)) !== 2) continue; // 2 = audio
      const codec = new TextDecoder().decode(fields.get(ID.CodecID) ?? new Uint8Array(0)).replace(/\0+$/, '');
      if (codec !== 'A_OPUS') return this.#fail(`WebM audio ${codec || 'without a codec'} is not supported (Opus is)`);
      const head = fields.get(ID.CodecPrivate);
      if (!head || head.length < 19 || String.fromCharCode(...head.subarray(0, 8)) !== 'OpusHead') {
        return this.#fail('WebM Opus track has no OpusHead');
      }
      const channelCount = head[9]!;
      const preSkip = head[10]! | (head[11]! << 8);
      this.#track = { number: uint(fields.get(ID.TrackNumber)) ?? 1, preSkip };
      this.#preSkipLeft = preSkip;
      // Opus always decodes at 48 kHz, whatever the Audio element's SamplingFrequency says (the input rate).
      const description = head.slice();
      this.#announce = (firstFrameSamples) =>
        this.sink.track({
          codec: 'opus',
          sampleRate: 48000,
          channelCount,
          decoding: { kind: 'webcodecs', config: { codec: 'opus', sampleRate: 48000, numberOfChannels: channelCount, description } },
          skip: 0,
          skipAlreadyCounted: 0,
          uncertainSkip: { samples: preSkip, firstFrameSamples },
        });
      return;
    }
    this.#fail('WebM file has no audio track');
  }

  /** Announces the track once the first frame's samples (after pre-skip) are known. */
  #announce: ((firstFrameSamples: number) => void) | undefined;

  #readBlock(block: Uint8Array, offset: number, inGroup: boolean): void {
    const track = this.#track;
    if (!track) return;
    const number = readSize(block, 0);
    if (!number || number.value !== track.number) return;
    let at = number.length + 2; // track number, 16-bit relative timecode
    const flags = block[at++];
    if (flags === undefined) return;
    const frames = laced(block.subarray(at), (flags >> 1) & 3);
    if (!frames) return this.sink.skipped(block.length);
    for (const data of frames) {
      const packetFrames = opusFrames(data);
      let samples = data.length > 0 && packetFrames ? packetFrames.length * opusFrameSamples(data[0]!) : 0;
      const skip = Math.min(this.#preSkipLeft, samples);
      this.#preSkipLeft -= skip;
      samples -= skip;
      if (this.#announce) {
        this.#announce(samples);
        this.#announce = undefined;
      }
      this.#samples += samples;
      if (inGroup) this.#groupSamples += samples;
      this.sink.frame({ data: data.slice(), samples, fileOffset: offset });
    }
    if (inGroup && this.#pendingDiscard > 0) this.sink.totalFrames(Math.max(0, this.#samples - this.#pendingDiscard));
  }

  /** DiscardPadding (signed, ns): samples to drop at the end of its block group's audio (the track's end). */
  #discard(body: Uint8Array): void {
    let value = body.length > 0 && body[0]! & 0x80 ? -1 : 0;
    for (const b of body) value = value * 256 + b;
    if (value <= 0 || !this.#track) return;
    const samples = Math.round((value * 48000) / 1e9);
    if (this.#groupSamples === 0) this.#pendingDiscard = samples;
    else this.sink.totalFrames(Math.max(0, this.#samples - samples));
  }

  #fail(reason: string): void {
    if (this.#done) return;
    this.#done = true;
    this.sink.unsupported(reason);
  }
}

/** The frames of a block's payload for its lacing (0 none, 1 Xiph, 2 fixed, 3 EBML), or undefined if malformed. */
function laced(payload: Uint8Array, lacing: number): Uint8Array[] | undefined {
  if (lacing === 0) return [payload];
  if (payload.length < 1) return undefined;
  const count = payload[0]! + 1;
  let at = 1;
  const sizes: number[] = [];
  if (lacing === 2) {
    if ((payload.length - 1) % count !== 0) return undefined;
    for (let i = 0; i < count; i++) sizes.push((payload.length - 1) / count);
  } else if (lacing === 1) {
    for (let i = 0; i < count - 1; i++) {
      let size = 0;
      for (let b = 255; b === 255; ) {
        if (at >= payload.length) return undefined;
        b = payload[at++]!;
        size += b;
      }
      sizes.push(size);
    }
  } else {
    const first = readSize(payload, at);
    if (!first || first.value === undefined) return undefined;
    at += first.length;
    sizes.push(first.value);
    for (let i = 1; i < count - 1; i++) {
      const delta = readSize(payload, at);
      if (!delta || delta.value === undefined) return undefined;
      at += delta.length;
      // Signed: the vint minus half its range.
      sizes.push(sizes[i - 1]! + delta.value - (2 ** (7 * delta.length - 1) - 1));
    }
  }
  if (lacing !== 2) {
    const rest = payload.length - at - sizes.reduce((n, s) => n + s, 0);
    if (rest < 0) return undefined;
    sizes.push(rest);
  }
  const frames: Uint8Array[] = [];
  for (const size of sizes) {
    if (size < 0 || at + size > payload.length) return undefined;
    frames.push(payload.subarray(at, at + size));
    at += size;
  }
  return frames;
}

/** An element ID (its marker bits kept, as IDs are written): 1–4 bytes. */
function readId(bytes: Uint8Array, at: number): { value: number; length: number } | undefined {
  const first = bytes[at];
  if (first === undefined || first === 0) return undefined;
  const length = Math.clz32(first) - 23;
  if (length > 4 || at + length > bytes.length) return undefined;
  let value = 0;
  for (let i = 0; i < length; i++) value = value * 256 + bytes[at + i]!;
  return { value, length };
}

/** A size vint (1–8 bytes); all ones means unknown (undefined value). */
function readSize(bytes: Uint8Array, at: number): { value: number | undefined; length: number } | undefined {
  const first = bytes[at];
  if (first === undefined || first === 0) return undefined;
  const length = Math.clz32(first) - 23;
  if (at + length > bytes.length) return undefined;
  let value = first & (0xff >> length);
  let allOnes = value === 0xff >> length;
  for (let i = 1; i < length; i++) {
    value = value * 256 + bytes[at + i]!;
    allOnes &&= bytes[at + i] === 0xff;
  }
  return { value: allOnes ? undefined : value, length };
}

/** The elements of a master's body (read whole). */
function elements(bytes: Uint8Array): { id: number; body: Uint8Array }[] {
  const out: { id: number; body: Uint8Array }[] = [];
  for (let at = 0; at < bytes.length; ) {
    const id = readId(bytes, at);
    const size = id && readSize(bytes, at + id.length);
    if (!id || !size || size.value === undefined) break;
    const start = at + id.length + size.length;
    out.push({ id: id.value, body: bytes.subarray(start, start + size.value) });
    at = start + size.value;
  }
  return out;
}

function uint(bytes: Uint8Array | undefined): number | undefined {
  if (!bytes || bytes.length === 0) return undefined;
  let value = 0;
  for (const b of bytes) value = value * 256 + b;
  return value;
}
