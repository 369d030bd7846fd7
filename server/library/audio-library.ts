/**
 * The audio library under AUDIO_DIR: turns a client's `src` into an audio file that is safe to
 * stream (or a typed refusal), lists the tracks, and knows their durations (cached by mtime+size).
 */
import { open, readdir, realpath } from 'node:fs/promises';
import path from 'node:path';
import type { TrackInfo } from '../../components/protocol';
import { mimeFromExtension, sniffAudioMime, SNIFF_BYTES } from './audio-format';
import { readDuration } from './duration';
import { resolveSrc, SrcError } from './safe-path';

export interface AudioFile {
  /** The client's src, as given (relative, `/`-separated). */
  src: string;
  /** Real path on disk, inside the library. */
  path: string;
  size: number;
  mtimeMs: number;
  mimeType: string;
}

export type LibraryProblem = 'BAD_SRC' | 'TRACK_NOT_FOUND' | 'NOT_AUDIO';

export class LibraryError extends Error {
  override readonly name = 'LibraryError';
  constructor(
    readonly problem: LibraryProblem,
    message: string,
  ) {
    super(message);
  }
}

const MAX_LISTED = 10_000;
const MAX_DEPTH = 8;

export class AudioLibrary {
  private readonly durations = new Map<string, { key: string; duration: Promise<number | undefined>; value?: number }>();
  private realRoot: Promise<string> | undefined;

  constructor(readonly root: string) {}

  private root_(): Promise<string> {
    this.realRoot ??= realpath(this.root).catch((error: unknown) => {
      this.realRoot = undefined;
      throw error;
    });
    return this.realRoot;
  }

  /** The audio file `src` names; throws LibraryError (BAD_SRC, TRACK_NOT_FOUND, NOT_AUDIO). */
  async resolve(src: string): Promise<AudioFile> {
    let realRoot: string;
    try {
      realRoot = await this.root_();
    } catch {
      throw new LibraryError('TRACK_NOT_FOUND', 'the audio library is not available');
    }
    let file: string;
    try {
      file = await resolveSrc(realRoot, src);
    } catch (error) {
      if (error instanceof SrcError) throw new LibraryError(error.problem, error.message);
      throw error;
    }
    return this.inspect(src, file);
  }

  private async inspect(src: string, file: string): Promise<AudioFile> {
    let handle;
    try {
      handle = await open(file, 'r');
    } catch {
      throw new LibraryError('TRACK_NOT_FOUND', 'no such track');
    }
    try {
      // Every offer resolves its file before the peer is made: stat and sniff in one trip through
      // the thread pool (the read of a directory just fails; the stat decides first), and the
      // close after the answer rather than before it.
      const head = new Uint8Array(SNIFF_BYTES);
      const [stat, read] = await Promise.allSettled([handle.stat(), handle.read(head, 0, SNIFF_BYTES, 0)]);
      if (stat.status === 'rejected') throw stat.reason;
      const info = stat.value;
      if (!info.isFile()) throw new LibraryError('TRACK_NOT_FOUND', 'no such track');
      if (mimeFromExtension(file) === undefined) throw new LibraryError('NOT_AUDIO', 'not an audio file');
      if (info.size === 0) throw new LibraryError('NOT_AUDIO', 'the file is empty');
      if (read.status === 'rejected') throw read.reason;
      const mimeType = sniffAudioMime(head.subarray(0, read.value.bytesRead));
      if (mimeType === undefined) throw new LibraryError('NOT_AUDIO', 'the file is not in an audio format');
      return { src, path: file, size: info.size, mtimeMs: info.mtimeMs, mimeType };
    } catch (error) {
      if (error instanceof LibraryError) throw error;
      throw new LibraryError('TRACK_NOT_FOUND', 'the track could not be read');
    } finally {
      void handle.close().catch(() => undefined);
    }
  }

  /** Seconds, when known already; starts reading it in the background otherwise. */
  cachedDuration(file: AudioFile): number | undefined {
    const cached = this.durations.get(file.path);
    if (cached?.key === cacheKey(file)) return cached.value;
    void this.duration(file);
    return undefined;
  }

  /** Seconds of audio in the file (cached per mtime+size), undefined when unknown. */
  duration(file: AudioFile): Promise<number | undefined> {
    const key = cacheKey(file);
    const cached = this.durations.get(file.path);
    if (cached?.key === key) return cached.duration;
    const entry: { key: string; duration: Promise<number | undefined>; value?: number } = {
      key,
      duration: readDuration(file.path, file.mimeType).catch(() => undefined),
    };
    void entry.duration.then((value) => {
      if (value !== undefined) entry.value = value;
    });
    this.durations.set(file.path, entry);
    return entry.duration;
  }

  /** Every audio file under the root (recursive, dotfiles and non-audio skipped), sorted by src. */
  async list(): Promise<TrackInfo[]> {
    let realRoot: string;
    try {
      realRoot = await this.root_();
    } catch {
      return [];
    }
    const srcs: string[] = [];
    const walk = async (dir: string, prefix: string, depth: number): Promise<void> => {
      if (depth > MAX_DEPTH || srcs.length >= MAX_LISTED) return;
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const entry of entries) {
        if (entry.name.startsWith('.') || srcs.length >= MAX_LISTED) continue;
        const src = prefix + entry.name;
        if (entry.isDirectory()) await walk(path.join(dir, entry.name), `${src}/`, depth + 1);
        else if (mimeFromExtension(entry.name) !== undefined && (entry.isFile() || entry.isSymbolicLink())) srcs.push(src);
      }
    };
    await walk(realRoot, '', 0);
    srcs.sort();
    const tracks: TrackInfo[] = [];
    for (const src of srcs) {
      let file: AudioFile;
      try {
        file = await this.resolve(src);
      } catch {
        continue;
      }
      const track: TrackInfo = { src, size: file.size, mimeType: file.mimeType };
      const duration = await this.duration(file);
      if (duration !== undefined) track.duration = duration;
      tracks.push(track);
    }
    return tracks;
  }
}

const cacheKey = (file: AudioFile): string => `${file.size}:${file.mtimeMs}`;
