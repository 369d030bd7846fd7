/**
 * Turns a client's `src` into a real path inside the library root, or says why not. The client's
 * string is never used as a path as is: it is checked segment by segment, joined under the root,
 * and the result's realpath (symlinks resolved) must still lie under the root's realpath.
 */
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { MAX_SRC_LENGTH } from '../../components/protocol';

export type SrcProblem = 'BAD_SRC' | 'TRACK_NOT_FOUND';

export class SrcError extends Error {
  override readonly name = 'SrcError';
  constructor(
    readonly problem: SrcProblem,
    message: string,
  ) {
    super(message);
  }
}

// Control characters (C0, DEL, C1), backslashes (Windows separators) and `%` (a URL-encoded
// name reaching us here means something decoded too little or too much: refuse, never guess).
const FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\\%]/;

/** Checks the shape of `src` and returns its segments; throws SrcError('BAD_SRC'). */
export function srcSegments(src: string): string[] {
  if (src.length === 0 || src.length > MAX_SRC_LENGTH) throw new SrcError('BAD_SRC', 'src is empty or too long');
  if (FORBIDDEN.test(src)) throw new SrcError('BAD_SRC', 'src contains control characters, "\\" or "%"');
  if (src.startsWith('/')) throw new SrcError('BAD_SRC', 'src must be relative to the library');
  const segments = src.split('/');
  for (const segment of segments) {
    if (segment === '') throw new SrcError('BAD_SRC', 'src has an empty path segment');
    if (segment.startsWith('.')) throw new SrcError('BAD_SRC', 'src may not contain "..", "." or dotfiles');
    if (Buffer.byteLength(segment) > 255) throw new SrcError('BAD_SRC', 'src has a segment longer than 255 bytes');
  }
  return segments;
}

/** Whether `target` lies strictly inside `root` (both absolute, normalised). */
export function isInside(root: string, target: string): boolean {
  const relative = path.relative(root, target);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
}

/**
 * Resolves `src` under `realRoot` (already a realpath) to the file's realpath. Throws
 * SrcError: BAD_SRC for a malformed src, TRACK_NOT_FOUND when nothing is there or the real
 * file lies outside the root or inside a dot-directory (a symlink escaping the library).
 */
export async function resolveSrc(realRoot: string, src: string): Promise<string> {
  const joined = path.join(realRoot, ...srcSegments(src));
  let real: string;
  try {
    real = await realpath(joined);
  } catch {
    throw new SrcError('TRACK_NOT_FOUND', 'no such track');
  }
  if (!isInside(realRoot, real)) throw new SrcError('TRACK_NOT_FOUND', 'no such track');
  const hidden = path.relative(realRoot, real).split(path.sep).some((segment) => segment.startsWith('.'));
  if (hidden) throw new SrcError('TRACK_NOT_FOUND', 'no such track');
  return real;
}
