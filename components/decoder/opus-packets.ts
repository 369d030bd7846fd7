/**
 * Opus repacketization (RFC 6716 §3.2): consecutive Ogg Opus packets of the same mode, bandwidth,
 * frame size and channel count are joined into one "code 3" packet of up to 120 ms, the way
 * libopus' `opus_repacketizer` does. The decoder decodes the frames of such a packet one after
 * the other with the same state it would have had packet by packet, so the samples are the same;
 * what changes is the number of WebCodecs chunks, whose fixed per-chunk cost dominated the decode
 * CPU of 20 ms packets (measured: ~1.7× one-shot decodeAudioData, 50 chunks per second).
 */

/** The longest packet Opus allows, in 48 kHz samples (120 ms). */
const MAX_PACKET_SAMPLES = 5760;
/** Most frames a code 3 packet can carry. */
const MAX_FRAMES = 48;
/** Most bytes one Opus frame may have. */
const MAX_FRAME_BYTES = 1275;

/** Samples (at 48 kHz) of one frame of a packet with this TOC byte. */
export function opusFrameSamples(toc: number): number {
  const config = toc >> 3;
  if (config < 12) return [480, 960, 1920, 2880][config & 3]!; // SILK: 10, 20, 40, 60 ms
  if (config < 16) return [480, 960][config & 1]!; // hybrid: 10, 20 ms
  return [120, 240, 480, 960][config & 3]!; // CELT: 2.5, 5, 10, 20 ms
}

/**
 * The frames of one Opus packet (views into it), or undefined if it is malformed — such a packet
 * is then left as it is, for the decoder to judge.
 */
export function opusFrames(packet: Uint8Array): Uint8Array[] | undefined {
  if (packet.length < 1) return undefined;
  const code = packet[0]! & 3;
  const body = packet.subarray(1);
  if (code === 0) return body.length <= MAX_FRAME_BYTES ? [body] : undefined;
  if (code === 1) {
    if (body.length % 2 !== 0) return undefined;
    const half = body.length / 2;
    return half <= MAX_FRAME_BYTES ? [body.subarray(0, half), body.subarray(half)] : undefined;
  }
  if (code === 2) {
    const first = readLength(body, 0);
    if (!first || first.at + first.length > body.length) return undefined;
    const second = body.length - first.at - first.length;
    if (second > MAX_FRAME_BYTES) return undefined;
    return [body.subarray(first.at, first.at + first.length), body.subarray(first.at + first.length)];
  }
  // code 3: frame count byte, optional padding length, optional frame lengths
  if (body.length < 1) return undefined;
  const vbr = (body[0]! & 0x80) !== 0;
  const padded = (body[0]! & 0x40) !== 0;
  const count = body[0]! & 0x3f;
  if (count === 0 || count * opusFrameSamples(packet[0]!) > MAX_PACKET_SAMPLES) return undefined;
  let at = 1;
  let padding = 0;
  if (padded) {
    for (;;) {
      if (at >= body.length) return undefined;
      const byte = body[at++]!;
      padding += byte === 255 ? 254 : byte;
      if (byte !== 255) break;
    }
  }
  const end = body.length - padding;
  if (end < at) return undefined;
  const lengths: number[] = [];
  if (vbr) {
    for (let i = 0; i < count - 1; i++) {
      const entry = readLength(body, at);
      if (!entry) return undefined;
      lengths.push(entry.length);
      at = entry.at;
    }
    const sum = lengths.reduce((n, l) => n + l, 0);
    if (at + sum > end || end - at - sum > MAX_FRAME_BYTES) return undefined;
    lengths.push(end - at - sum);
  } else {
    if ((end - at) % count !== 0 || (end - at) / count > MAX_FRAME_BYTES) return undefined;
    for (let i = 0; i < count; i++) lengths.push((end - at) / count);
  }
  const frames: Uint8Array[] = [];
  for (const length of lengths) frames.push(body.subarray(at, at + length)), (at += length);
  return frames;
}

/**
 * Joins packets into as few packets as RFC 6716 allows without changing what they decode to:
 * runs of the same TOC configuration and stereo flag, at most 120 ms each. Single packets that
 * cannot be joined (malformed, or a lone one) pass through untouched.
 */
export function joinOpusPackets(packets: readonly Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let run: Uint8Array[] = [];
  let runPackets: Uint8Array[] = [];
  let runToc = -1;
  const close = (): void => {
    if (runPackets.length === 1) out.push(runPackets[0]!);
    else if (runPackets.length > 1) out.push(code3Packet(runToc, run));
    run = [];
    runPackets = [];
    runToc = -1;
  };
  for (const packet of packets) {
    const frames = opusFrames(packet);
    if (!frames) {
      close();
      out.push(packet);
      continue;
    }
    const toc = packet[0]! & 0xfc;
    const frameSamples = opusFrameSamples(toc);
    if (toc !== runToc || (run.length + frames.length) * frameSamples > MAX_PACKET_SAMPLES || run.length + frames.length > MAX_FRAMES) close();
    if (runToc === -1) runToc = toc;
    run.push(...frames);
    runPackets.push(packet);
  }
  close();
  return out;
}

/** A code 3 VBR packet (no padding) holding `frames`, all of TOC configuration `toc`. */
function code3Packet(toc: number, frames: Uint8Array[]): Uint8Array {
  let size = 2;
  for (let i = 0; i < frames.length; i++) size += frames[i]!.length + (i < frames.length - 1 ? (frames[i]!.length < 252 ? 1 : 2) : 0);
  const out = new Uint8Array(size);
  out[0] = toc | 3;
  out[1] = 0x80 | frames.length;
  let at = 2;
  for (let i = 0; i < frames.length - 1; i++) {
    const length = frames[i]!.length;
    if (length < 252) out[at++] = length;
    else {
      const first = 252 + (length & 3);
      out[at++] = first;
      out[at++] = (length - first) >> 2;
    }
  }
  for (const frame of frames) out.set(frame, at), (at += frame.length);
  return out;
}

/** RFC 6716 §3.2.1: one or two bytes of frame length at `at`. */
function readLength(bytes: Uint8Array, at: number): { length: number; at: number } | undefined {
  if (at >= bytes.length) return undefined;
  const first = bytes[at]!;
  if (first < 252) return { length: first, at: at + 1 };
  if (at + 1 >= bytes.length) return undefined;
  return { length: first + 4 * bytes[at + 1]!, at: at + 2 };
}
