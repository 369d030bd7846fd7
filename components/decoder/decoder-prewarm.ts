/**
 * Warms the browser's WebCodecs MP3 decoder before a track needs it: one throw-away AudioDecoder
 * decodes one silent frame and is closed.
 *
 * Why: the first AudioDecoder of a page pays one-time costs (the decoder factory, the codec's
 * tables, its thread) between the first chunk and the first decoded block; done at attach, the
 * track's own decoder starts warm. Nothing leaves the page, and nothing is held afterwards.
 */

/** MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, stereo, no CRC: a 417-byte frame. */
const SILENT_FRAME_HEADER = [0xff, 0xfb, 0x90, 0x00];
const SILENT_FRAME_BYTES = 417;
/** A warm-up that gets no answer within this is abandoned (its decoder closed). */
const WARM_TIMEOUT_MS = 2000;

/**
 * A frame whose side information and main data are all zero: every granule has no coded bits,
 * so it decodes to 1152 samples of silence per channel.
 */
export function silentMp3Frame(): Uint8Array {
  const frame = new Uint8Array(SILENT_FRAME_BYTES);
  frame.set(SILENT_FRAME_HEADER);
  return frame;
}

export interface WarmUpResult {
  /** Audio frames the decoder produced (1152 when it decoded the silent frame). */
  decodedFrames: number;
  /** The warm-up decoder, closed by the time this resolves. */
  decoder: AudioDecoder | undefined;
}

/**
 * Decodes one silent MP3 frame on a new AudioDecoder and closes it. Never rejects: a browser
 * without WebCodecs MP3 resolves with 0 frames.
 */
export async function warmUpMp3Decoder(): Promise<WarmUpResult> {
  if (typeof AudioDecoder === 'undefined') return { decodedFrames: 0, decoder: undefined };
  let decodedFrames = 0;
  let decoder: AudioDecoder | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    decoder = new AudioDecoder({
      output: (data) => {
        decodedFrames += data.numberOfFrames;
        data.close();
      },
      error: () => undefined, // flush() rejects too; the result says 0 frames
    });
    decoder.configure({ codec: 'mp3', sampleRate: 44100, numberOfChannels: 2 });
    decoder.decode(new EncodedAudioChunk({ type: 'key', timestamp: 0, data: silentMp3Frame() }));
    await Promise.race([
      decoder.flush(),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, WARM_TIMEOUT_MS);
      }),
    ]);
  } catch {
    // Unsupported config or a closed decoder: nothing to warm.
  } finally {
    clearTimeout(timer);
    if (decoder && decoder.state !== 'closed') decoder.close();
  }
  return { decodedFrames, decoder };
}

let warming: Promise<WarmUpResult> | undefined;

/** {@link warmUpMp3Decoder}, once per page. */
export function prewarmWebCodecsMp3(): Promise<WarmUpResult> {
  warming ??= warmUpMp3Decoder();
  return warming;
}
