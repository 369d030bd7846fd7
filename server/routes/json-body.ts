/**
 * Body parsing for the JSON endpoints: application/json only (415 otherwise), a small size limit
 * (413), and malformed JSON as 400 BAD_JSON — each as our error body, never the parser's text.
 */
import bodyParser from 'koa-bodyparser';
import type { Context, Next } from 'koa';
import { HttpError } from '../errors';

export function jsonBody(limitBytes: number) {
  const parse = bodyParser({ enableTypes: ['json'], jsonLimit: String(limitBytes), strict: true });
  return async (ctx: Context, next: Next): Promise<void> => {
    if (!ctx.request.is('application/json')) {
      throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'request body must be application/json');
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
