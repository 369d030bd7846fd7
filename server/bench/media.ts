/**
 * The benchmark's audio library, made from the bundled demo track with Debian's ffmpeg and lame
 * and cached under `.cache/bench-media/` (gitignored): generating the long tracks takes seconds,
 * so later runs reuse them. The server under test gets this directory as its AUDIO_DIR.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, rename, stat, truncate } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Bump when the recipe changes, so stale caches are not reused. */
const MEDIA_VERSION = 'v1';
export const THROUGHPUT_BYTES = 16 * 1024 * 1024;

export interface BenchMedia {
  dir: string;
  /** 68 s demo MP3 (start-up runs). */
  demo: string;
  fiveMinutes: string;
  sixtyMinutes: string;
  /** Exactly 16 MiB (a truncated MP3: valid frames, then the cut). */
  sixteenMiB: string;
  /** One file per decode-benchmark format, each `DECODE_SECONDS` long. */
  decode: { format: string; src: string; mimeType: string }[];
}

export const DECODE_SECONDS = 120;

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

/** Runs `make(tmp)` only when `file` is missing; writes atomically. */
async function once(file: string, make: (tmp: string) => Promise<unknown>): Promise<void> {
  if (await exists(file)) return;
  const tmp = `${file}.partial${path.extname(file)}`;
  await make(tmp);
  await rename(tmp, file);
}

const ffmpeg = (...args: string[]) => run('ffmpeg', ['-v', 'error', '-y', ...args], { maxBuffer: 1 << 20 });

export async function prepareMedia(projectRoot: string, log: (line: string) => void): Promise<BenchMedia> {
  const dir = path.join(projectRoot, '.cache', 'bench-media', MEDIA_VERSION);
  await mkdir(dir, { recursive: true });
  const demoSource = path.join(projectRoot, 'demo', 'tracks', 'loopback-lullaby.mp3');
  const at = (name: string) => path.join(dir, name);

  await once(at('demo.mp3'), (tmp) => copyFile(demoSource, tmp));
  // A PCM master of 5 minutes (the demo looped) from which every other file is encoded.
  await once(at('master-5min.wav'), async (tmp) => {
    log('bench media: 5-minute master');
    await ffmpeg('-stream_loop', '5', '-i', demoSource, '-t', '300', '-c:a', 'pcm_s16le', tmp);
  });
  await once(at('five-minutes.mp3'), async (tmp) => {
    log('bench media: 5-minute MP3 (lame)');
    await run('lame', ['--quiet', '-b', '128', at('master-5min.wav'), tmp]);
  });
  await once(at('sixty-minutes.mp3'), async (tmp) => {
    log('bench media: 60-minute MP3 (12 × 5 min, stream copy)');
    await ffmpeg('-stream_loop', '11', '-i', at('five-minutes.mp3'), '-c', 'copy', '-f', 'mp3', tmp);
  });
  await once(at('sixteen-mib.mp3'), async (tmp) => {
    await copyFile(at('sixty-minutes.mp3'), tmp);
    await truncate(tmp, THROUGHPUT_BYTES);
  });

  const decodeMaster = at(`master-${DECODE_SECONDS}s.wav`);
  await once(decodeMaster, (tmp) => ffmpeg('-i', at('master-5min.wav'), '-t', String(DECODE_SECONDS), '-c:a', 'pcm_s16le', tmp));
  const formats: { format: string; file: string; mimeType: string; make: (tmp: string) => Promise<unknown> }[] = [
    { format: 'MP3 128k CBR', file: 'decode-cbr.mp3', mimeType: 'audio/mpeg', make: (tmp) => run('lame', ['--quiet', '-b', '128', decodeMaster, tmp]) },
    { format: 'MP3 V2 VBR', file: 'decode-vbr.mp3', mimeType: 'audio/mpeg', make: (tmp) => run('lame', ['--quiet', '-V', '2', decodeMaster, tmp]) },
    { format: 'AAC-LC ADTS 128k', file: 'decode.aac', mimeType: 'audio/aac', make: (tmp) => ffmpeg('-i', decodeMaster, '-c:a', 'aac', '-b:a', '128k', '-f', 'adts', tmp) },
    { format: 'Ogg Opus 96k', file: 'decode.opus', mimeType: 'audio/ogg', make: (tmp) => ffmpeg('-i', decodeMaster, '-c:a', 'libopus', '-b:a', '96k', '-f', 'ogg', tmp) },
    { format: 'Ogg Vorbis q4', file: 'decode.ogg', mimeType: 'audio/ogg', make: (tmp) => ffmpeg('-i', decodeMaster, '-c:a', 'libvorbis', '-q:a', '4', '-f', 'ogg', tmp) },
    { format: 'FLAC', file: 'decode.flac', mimeType: 'audio/flac', make: (tmp) => ffmpeg('-i', decodeMaster, '-c:a', 'flac', '-f', 'flac', tmp) },
    { format: 'WAV PCM 16-bit', file: 'decode.wav', mimeType: 'audio/wav', make: (tmp) => copyFile(decodeMaster, tmp) },
  ];
  for (const entry of formats) {
    await once(at(entry.file), async (tmp) => {
      log(`bench media: ${entry.format}`);
      await entry.make(tmp);
    });
  }
  return {
    dir,
    demo: 'demo.mp3',
    fiveMinutes: 'five-minutes.mp3',
    sixtyMinutes: 'sixty-minutes.mp3',
    sixteenMiB: 'sixteen-mib.mp3',
    decode: formats.map(({ format, file, mimeType }) => ({ format, src: file, mimeType })),
  };
}
