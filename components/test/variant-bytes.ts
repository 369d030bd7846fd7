/**
 * For Node tests: builds the named encoder variants (Debian's ffmpeg/lame/sox) once before the
 * file's tests and removes them after; `bytesOf(name)` reads one.
 */
import { readFileSync } from 'node:fs';
import { after, before } from 'node:test';
import { buildVariants, type VariantEntry } from './encoder-variants.mjs';

export function useEncoderVariants(names: readonly string[]): { bytesOf(name: string): Uint8Array; entry(name: string): VariantEntry } {
  let variants = new Map<string, VariantEntry>();
  let remove: (() => Promise<void>) | undefined;
  before(async () => {
    const built = await buildVariants(names);
    variants = new Map(built.entries.map((entry) => [entry.name, entry]));
    remove = built.remove;
  });
  after(() => remove?.());
  const entry = (name: string): VariantEntry => {
    const found = variants.get(name);
    if (!found) throw new Error(`encoder variant ${name} was not built (not in this file's list, or its encoder failed)`);
    return found;
  };
  return { entry, bytesOf: (name) => new Uint8Array(readFileSync(entry(name).file)) };
}
