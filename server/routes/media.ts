/**
 * GET/HEAD /media/<src>: the raw file, with Range support, under the same safe-path rules as
 * /api/offer (tests hash originals through it; the bench feeds native <audio> from it).
 */
import { createReadStream } from 'node:fs';
import type { Context, Next } from 'koa';
import { HttpError } from '../errors';
import { LibraryError, type AudioLibrary } from '../library/audio-library';
import { parseRange } from './range';

const PREFIX = '/media/';
const LIBRARY_STATUS = { BAD_SRC: 400, TRACK_NOT_FOUND: 404, NOT_AUDIO: 415 } as const;

export function mediaMiddleware(library: AudioLibrary) {
  return async (ctx: Context, next: Next): Promise<void> => {
    if (!ctx.path.startsWith(PREFIX)) return next();
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      ctx.set('Allow', 'GET, HEAD');
      throw new HttpError(405, 'BAD_REQUEST', 'use GET or HEAD');
    }
    // ctx.path is still percent-encoded: decode exactly once; the library refuses a `%` left over.
    let src: string;
    try {
      src = decodeURIComponent(ctx.path.slice(PREFIX.length));
    } catch {
      throw new HttpError(400, 'BAD_SRC', 'malformed percent-encoding');
    }
    const file = await library.resolve(src).catch((error: unknown) => {
      if (error instanceof LibraryError) throw new HttpError(LIBRARY_STATUS[error.problem], error.problem, error.message);
      throw error;
    });
    ctx.set('Accept-Ranges', 'bytes');
    ctx.set('Cache-Control', 'no-cache');
    ctx.set('Last-Modified', new Date(file.mtimeMs).toUTCString());
    ctx.set('Cross-Origin-Resource-Policy', 'cross-origin');
    const range = parseRange(ctx.get('Range') || undefined, file.size);
    if (range.kind === 'unsatisfiable') {
      ctx.set('Content-Range', `bytes */${file.size}`);
      ctx.status = 416;
      ctx.body = '';
      return;
    }
    const start = range.kind === 'partial' ? range.start : 0;
    const end = range.kind === 'partial' ? range.end : file.size - 1;
    ctx.status = range.kind === 'partial' ? 206 : 200;
    if (range.kind === 'partial') ctx.set('Content-Range', `bytes ${start}-${end}/${file.size}`);
    ctx.type = file.mimeType;
    ctx.length = end - start + 1;
    if (ctx.method === 'HEAD') return;
    ctx.body = createReadStream(file.path, { start, end });
  };
}
