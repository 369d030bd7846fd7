/**
 * Security headers on every response. The CSP lets the demo page work and nothing more: its own
 * scripts, blob: module URLs (AudioWorklet processors), WebAssembly decoders, the API on the same
 * origin, and media from the same origin or blob:.
 */
import type { Context, Next } from 'koa';

const CSP = [
  "default-src 'self'",
  "script-src 'self' blob: 'wasm-unsafe-eval'",
  "worker-src 'self' blob:",
  "connect-src 'self'",
  "media-src 'self' blob:",
  "img-src 'self' data: blob:",
  "style-src 'self' 'unsafe-inline'",
  "object-src 'none'",
  "base-uri 'self'",
  "frame-ancestors 'self'",
].join('; ');

export async function securityHeaders(ctx: Context, next: Next): Promise<void> {
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('Referrer-Policy', 'no-referrer');
  ctx.set('Content-Security-Policy', CSP);
  ctx.set('X-Frame-Options', 'SAMEORIGIN');
  await next();
}
