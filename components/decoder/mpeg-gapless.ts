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
  const xingAt = 4 + (layout.crc ? 2 : 0) + sideInfo;
  if (tagAt(frame, xingAt, 'Xing') || tagAt(frame, xingAt, 'Info')) {
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
