/** The container reader for each format the sniffer names: one place, for the decoder and its tests. */
import { MpegSource } from './mpeg-source.js';
import { FlacSource } from './flac-source.js';
import type { ContainerFormat } from './format-sniffer.js';
import type { FrameSink, FrameSource } from './frame-source.js';
import { Mp4Source } from './mp4-source.js';
import { OggSource } from './ogg-source.js';
import { WavSource } from './wav-source.js';
import { WebmSource } from './webm-source.js';

export function createFrameSource(format: ContainerFormat, sink: FrameSink): FrameSource {
  switch (format) {
    case 'wav':
      return new WavSource(sink);
    case 'mp4':
      return new Mp4Source(sink);
    case 'webm':
      return new WebmSource(sink);
    case 'flac':
      return new FlacSource(sink);
    case 'ogg':
      return new OggSource(sink);
    default:
      return new MpegSource(format, sink);
  }
}
