/**
 * HTTP errors as data: every failure leaves the server as `{ error: { code, message } }` with a
 * stable code from the protocol module, whatever threw it (our code, the body parser, Koa).
 */
import type { Context, Next } from 'koa';
import type { ErrorBody, HttpErrorCode } from '../components/protocol';

export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: HttpErrorCode,
    message: string,
    /** Extra response headers, e.g. Retry-After. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** Errors thrown by koa-bodyparser / raw-body / http-errors carry `status` and `type`. */
interface LibraryError {
  status?: unknown;
  statusCode?: unknown;
  type?: unknown;
  expose?: unknown;
  message?: unknown;
}

/** Maps anything thrown to the HTTP error the client sees. */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  const e = (typeof error === 'object' && error !== null ? error : {}) as LibraryError;
  const status = typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : 500;
  if (status === 413 || e.type === 'entity.too.large') {
    return new HttpError(413, 'PAYLOAD_TOO_LARGE', 'request body is too large');
  }
  if (status === 415 || e.type === 'encoding.unsupported' || e.type === 'charset.unsupported') {
    return new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'request body must be application/json (utf-8)');
  }
  if (status === 400 && (e.type === 'entity.parse.failed' || /json/i.test(String(e.message)))) {
    return new HttpError(400, 'BAD_JSON', 'request body is not valid JSON');
  }
  if (status >= 400 && status < 500) {
    return new HttpError(status, status === 404 ? 'NOT_FOUND' : 'BAD_REQUEST', 'bad request');
  }
  return new HttpError(500, 'INTERNAL', 'internal server error');
}

/** First middleware: turns every thrown error into the JSON error body; logs real faults only. */
export function errorMiddleware(log: (message: string, error: unknown) => void) {
  return async (ctx: Context, next: Next): Promise<void> => {
    try {
      await next();
      // Whatever ended without a body (no route, the router's 405) still answers in JSON.
      if (ctx.status === 404 && ctx.body == null) {
        throw new HttpError(404, 'NOT_FOUND', `no route ${ctx.method} ${ctx.path.slice(0, 200)}`);
      }
      if (ctx.status === 405 && ctx.body == null) {
        throw new HttpError(405, 'BAD_REQUEST', `method ${ctx.method} not allowed here`, { Allow: ctx.response.get('Allow') });
      }
    } catch (error) {
      const httpError = toHttpError(error);
      if (httpError.status >= 500 && !(error instanceof HttpError)) log(`${ctx.method} ${ctx.path}`, error);
      const body: ErrorBody = { error: { code: httpError.code, message: httpError.message } };
      ctx.status = httpError.status;
      for (const [name, value] of Object.entries(httpError.headers)) ctx.set(name, value);
      ctx.body = body;
    }
  };
}
