/**
 * What flows from the decoder to the playback engine: planar PCM placed on the track's timeline.
 * Timeline frame 0 is the first real sample of the track (encoder delay already trimmed).
 */
export interface PcmBlock {
  /** One Float32Array per channel, all the same length. */
  channels: Float32Array[];
  sampleRate: number;
  /** Timeline position of `channels[*][0]`, in frames at `sampleRate`. */
  startFrame: number;
  /**
   * The channels' whole ArrayBuffers belong to this block, also where a channel is a view of part
   * of one (decoded audio after its warm-up): the playback engine may take them without a copy.
   */
  ownsBuffers?: boolean;
}

/** What the decoder learned about the stream from its headers. */
export interface StreamInfo {
  /** e.g. "mpeg", "aac", "opus", "vorbis", "flac", "pcm". */
  codec: string;
  sampleRate: number;
  channelCount: number;
  /** Exact seconds from headers (Xing/VBRI frame count, STREAMINFO, granule, data size), if known. */
  duration?: number;
}

export function blockFrames(block: PcmBlock): number {
  return block.channels[0]?.length ?? 0;
}
