/**
 * Gapless and length information of an MP3 from its first frame: the Xing/Info header (frame
 * count), the LAME tag inside it (encoder delay and padding) or a Fraunhofer VBRI header.
 * codec-parser hands that frame through as if it were audio; it must not be decoded.
 */

/** Decoder delay of the ISO/ffmpeg MPEG audio synthesis filterbank, in samples (LAME convention). */
export const MPEG_DECODER_DELAY = 529;

export interface MpegInfoFrame {
  tag: 'Xing' | 'Info' | 'VBRI';
  /** Audio frames in the stream, not counting this info frame. */
  frameCount?: number;
  /** Bytes of the stream as the encoder wrote it (info frame included), if given. */
  byteCount?: number;
  /** LAME tag: samples the encoder put before the first real sample. */
  encoderDelay?: number;
  /** LAME tag: samples the encoder appended after the last real sample. */
  padding?: number;
  /** e.g. "LAME3.100" when a LAME tag is present. */
  encoder?: string;
}

export interface MpegFrameLayout {
  /** 1 = MPEG-1, 2 = MPEG-2, 2.5 = MPEG-2.5 */
  version: 1 | 2 | 2.5;
  layer: 1 | 2 | 3;
  mono: boolean;
  crc: boolean;
  /** Samples per frame: 384 (Layer I), 1152, or 576 (Layer III of MPEG-2/2.5). */
  samplesPerFrame: number;
}

export function mpegFrameLayout(frame: Uint8Array): MpegFrameLayout | undefined {
  if (frame.length < 4 || frame[0] !== 0xff || (frame[1]! & 0xe0) !== 0xe0) return undefined;
  const versionBits = (frame[1]! >> 3) & 3;
  const layerBits = (frame[1]! >> 1) & 3;
  if (versionBits === 1 || layerBits === 0) return undefined;
  const version = versionBits === 3 ? 1 : versionBits === 2 ? 2 : 2.5;
  const layer = (4 - layerBits) as 1 | 2 | 3;
  const samplesPerFrame = layer === 1 ? 384 : layer === 2 || version === 1 ? 1152 : 576;
  return { version, layer, mono: frame[3]! >> 6 === 3, crc: (frame[1]! & 1) === 0, samplesPerFrame };
}

const u32 = (b: Uint8Array, at: number): number =>
  ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
const tagAt = (b: Uint8Array, at: number, tag: string): boolean =>
  b.length >= at + 4 && [...tag].every((c, i) => b[at + i] === c.charCodeAt(0));

/** Reads the Xing/Info(+LAME) or VBRI header of an MPEG audio frame, if it is such a frame. */
export function readMpegInfoFrame(frame: Uint8Array): MpegInfoFrame | undefined {
  const layout = mpegFrameLayout(frame);
  if (!layout || layout.layer !== 3) return undefined;
  const sideInfo = layout.version === 1 ? (layout.mono ? 17 : 32) : layout.mono ? 9 : 17;
  // With error protection on, LAME (`-p`) still writes the tag right after the side info as if
  // there were no CRC, and ffmpeg reads it there; other writers skip the CRC's 2 bytes.
  const at = (place: number): boolean => tagAt(frame, place, 'Xing') || tagAt(frame, place, 'Info');
  const xingAt = 4 + sideInfo + (layout.crc && !at(4 + sideInfo) ? 2 : 0);
  if (at(xingAt)) {
    const info: MpegInfoFrame = { tag: tagAt(frame, xingAt, 'Xing') ? 'Xing' : 'Info' };
    const flags = u32(frame, xingAt + 4);
    let at = xingAt + 8;
    if (flags & 1) (info.frameCount = u32(frame, at)), (at += 4);
    if (flags & 2) (info.byteCount = u32(frame, at)), (at += 4);
    if (flags & 4) at += 100; // seek TOC
    if (flags & 8) at += 4; // quality
    // LAME tag: 9-byte encoder string, then delay/padding as two 12-bit fields at +21.
    if (frame.length >= at + 24) {
      const encoder = String.fromCharCode(...frame.subarray(at, at + 9)).replace(/[^\x20-\x7e]/g, '');
      if (/^(LAME|Lavf|Lavc|GOGO)/.test(encoder)) {
        info.encoder = encoder.trim();
        const d = at + 21;
        info.encoderDelay = (frame[d]! << 4) | (frame[d + 1]! >> 4);
        info.padding = ((frame[d + 1]! & 0x0f) << 8) | frame[d + 2]!;
      }
    }
    return info;
  }
  // VBRI sits at a fixed 32 bytes after the header: "VBRI", version(2), delay(2), quality(2), bytes(4), frames(4)
  if (tagAt(frame, 36, 'VBRI') && frame.length >= 36 + 18) {
    return { tag: 'VBRI', byteCount: u32(frame, 36 + 10), frameCount: u32(frame, 36 + 14) };
  }
  return undefined;
}

/**
 * Turns an info frame into the decoder's trim: drop `skip` decoded samples at the start and keep
 * `totalFrames` after that. With a LAME tag that is the encoder delay plus the decoder's own 529
 * samples (what ffmpeg, and so Chromium's decodeAudioData and WebCodecs, output); without one the
 * stream is played as decoded, like decodeAudioData does.
 */
export function mpegTrim(
  info: MpegInfoFrame | undefined,
  samplesPerFrame: number,
): { skip: number; totalFrames?: number } {
  if (!info || info.frameCount === undefined) return { skip: 0 };
  const raw = info.frameCount * samplesPerFrame;
  if (info.encoderDelay === undefined || info.padding === undefined) return { skip: 0, totalFrames: raw };
  const skip = info.encoderDelay + MPEG_DECODER_DELAY;
  return { skip, totalFrames: Math.max(0, raw - info.encoderDelay - info.padding) };
}

/** Where a Layer III frame's side info starts and how long it is, or undefined for another layer. */
function sideInfoOf(frame: Uint8Array): { at: number; length: number; mpeg1: boolean } | undefined {
  const layout = mpegFrameLayout(frame);
  if (!layout || layout.layer !== 3) return undefined;
  const mpeg1 = layout.version === 1;
  return { at: 4 + (layout.crc ? 2 : 0), length: mpeg1 ? (layout.mono ? 17 : 32) : layout.mono ? 9 : 17, mpeg1 };
}

/** Bytes of main data this Layer III frame itself carries (what later frames' reservoir may reach back into). */
function mainDataBytes(frame: Uint8Array): number {
  const side = sideInfoOf(frame);
  return side ? Math.max(0, frame.length - side.at - side.length) : 0;
}

/** How far back this Layer III frame's main data starts, in bytes of earlier frames (the bit reservoir). */
function mainDataBegin(frame: Uint8Array): number {
  const side = sideInfoOf(frame);
  if (!side || frame.length < side.at + 2) return 0;
  return side.mpeg1 ? (frame[side.at]! << 1) | (frame[side.at + 1]! >> 7) : frame[side.at]!;
}

/**
 * Frames of `history` (the frames just before `first`, oldest first) that a decoder starting
 * cold must see before `first` to output it as a continuous decode would: the frame before it
 * (filterbank and IMDCT overlap) with every byte of the reservoir that frame and `first` reach
 * back into, plus one more frame (MPEG-2's single granule overlaps its predecessor). At 128 kbit/s
 * that is the `minimum`; a low-bitrate stream's small frames need more of them (a 511-byte
 * reservoir spans ~8 frames at 32 kbit/s).
 */
export function mpegWarmupFrames(history: readonly Uint8Array[], first: Uint8Array, minimum: number): number {
  const previous = history[history.length - 1];
  if (!previous) return 0;
  const need = Math.max(mainDataBegin(first), mainDataBegin(previous) + mainDataBytes(previous));
  let count = 0;
  for (let i = history.length - 1, have = 0; i >= 0 && have < need; i--) (have += mainDataBytes(history[i]!)), count++;
  return Math.min(history.length, Math.max(minimum, count + 1));
}
