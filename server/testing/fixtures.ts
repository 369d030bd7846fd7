/**
 * Test audio libraries made at test time in a temp dir. Transport tests need exact bytes, not
 * music: random bytes behind a valid MPEG-1 Layer III frame header pass the server's magic check.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, no padding: a valid frame sync. */
export const MP3_FRAME_HEADER = Uint8Array.of(0xff, 0xfb, 0x90, 0x64);

/** `size` bytes that start with an MP3 frame header and continue at random. */
export function fakeMp3(size: number): Buffer {
  const bytes = randomBytes(size);
  Buffer.from(MP3_FRAME_HEADER).copy(bytes, 0, 0, Math.min(size, MP3_FRAME_HEADER.length));
  return bytes;
}

export const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

export interface TempLibrary {
  dir: string;
  write(name: string, bytes: Uint8Array | string): Promise<string>;
  remove(): Promise<void>;
}

export async function tempLibrary(): Promise<TempLibrary> {
  const dir = await mkdtemp(path.join(tmpdir(), 'rtc-server-test-'));
  return {
    dir,
    async write(name, bytes) {
      const file = path.join(dir, name);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, bytes);
      return file;
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
