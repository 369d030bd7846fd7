/**
 * Static files of the built demo (STATIC_DIR) at `/`, `/` meaning index.html. Same path rules as
 * the library: segments checked, realpath must stay inside the root, no dotfiles.
 */
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Context, Next } from 'koa';
import { resolveSrc } from '../library/safe-path';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
  '.mp3': 'audio/mpeg',
  '.ogg': 'audio/ogg',
  '.flac': 'audio/flac',
  '.wav': 'audio/wav',
  '.m4a': 'audio/mp4',
};

export function staticMiddleware(root: string) {
  let realRoot: Promise<string | undefined> | undefined;
  return async (ctx: Context, next: Next): Promise<void> => {
    if ((ctx.method !== 'GET' && ctx.method !== 'HEAD') || ctx.path.startsWith('/api/')) return next();
    realRoot ??= realpath(root).catch(() => undefined);
    const base = await realRoot;
    if (base === undefined) return next();
    let relative: string;
    try {
      relative = decodeURIComponent(ctx.path).replace(/^\/+/, '');
    } catch {
      return next();
    }
    if (relative === '' || relative.endsWith('/')) relative += 'index.html';
    let file: string;
    try {
      file = await resolveSrc(base, relative);
      if (!(await stat(file)).isFile()) return next();
    } catch {
      return next();
    }
    ctx.type = TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
    ctx.set('Cache-Control', file.endsWith('.html') ? 'no-cache' : 'public, max-age=300');
    ctx.length = (await stat(file)).size;
    if (ctx.method === 'HEAD') {
      ctx.status = 200;
      return;
    }
    ctx.body = createReadStream(file);
  };
}
