/**
 * Body parsing for the JSON endpoints: a JSON object sent as application/json or, for
 * `acceptTextPlain` routes, as text/plain (415 otherwise), a small size limit (413), and malformed
 * JSON as 400 BAD_JSON — each as our error body, never the parser's text.
 *
 * Why text/plain: a cross-origin POST with `Content-Type: application/json` is not a CORS "simple
 * request", so a browser sends an OPTIONS preflight first and waits for it — one more round trip
 * before the offer, paid on every first visit (the preflight cache is per page origin and at most
 * `Access-Control-Max-Age`). A text/plain body is sent at once. It is parsed by the very same JSON
 * parser with the same rules (an object or array at the top, no `__proto__` keys, same limit), so
 * the route sees the same body either way.
 */
import bodyParser from 'koa-bodyparser';
import type { Context, Next } from 'koa';
import { HttpError } from '../errors';

export interface JsonBodyOptions {
  /** Also accept a JSON text sent as text/plain (utf-8), for CORS-simple requests. Default false. */
  acceptTextPlain?: boolean;
}

export function jsonBody(limitBytes: number, { acceptTextPlain = false }: JsonBodyOptions = {}) {
  const parse = bodyParser({
    enableTypes: ['json'],
    jsonLimit: String(limitBytes),
    strict: true,
    // The JSON parser, not the text one: a text/plain body must be JSON by the same rules.
    ...(acceptTextPlain ? { extendTypes: { json: ['text/plain'] } } : {}),
  });
  const accepted = acceptTextPlain ? 'application/json or text/plain' : 'application/json';
  return async (ctx: Context, next: Next): Promise<void> => {
    const isJson = ctx.request.is('application/json') !== false;
    const isText = acceptTextPlain && !isJson && ctx.request.is('text/plain') !== false;
    if (!isJson && !isText) {
      throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', `request body must be ${accepted}`);
    }
    // The parser reads every body as utf-8; for text/plain the charset is the client's to state,
    // so refuse one that says otherwise rather than misread it.
    if (isText) {
      const charset = ctx.request.charset.toLowerCase();
      if (charset !== '' && charset !== 'utf-8' && charset !== 'utf8') {
        throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', `a text/plain body must be utf-8, not ${charset.slice(0, 40)}`);
      }
    }
    const declared = Number(ctx.get('Content-Length'));
    if (Number.isFinite(declared) && declared > limitBytes) {
      throw new HttpError(413, 'PAYLOAD_TOO_LARGE', `request body is larger than ${limitBytes} bytes`);
    }
    try {
      await parse(ctx, async () => undefined);
    } catch (error) {
      const { status, type } = error as { status?: number; type?: string };
      if (status === 413 || type === 'entity.too.large') {
        throw new HttpError(413, 'PAYLOAD_TOO_LARGE', `request body is larger than ${limitBytes} bytes`);
      }
      if (status === 415 || type === 'encoding.unsupported' || type === 'charset.unsupported') {
        throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'unsupported body encoding or charset');
      }
      throw new HttpError(400, 'BAD_JSON', 'request body is not a valid JSON object');
    }
    await next();
  };
}
