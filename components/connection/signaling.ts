/**
 * One signaling request: POST the offer to `${server}/api/offer`, return the server's answer.
 * No retries here — the player controller decides whether and when to try again, from the
 * PlayerError this throws (code, status, `fatal`, `retryAfterMs`).
 */
import { PlayerError } from '../errors.js';
import { parseErrorBody, parseOfferResponse, type OfferRequest, type OfferResponse } from '../protocol.js';
import { retryAfterMs } from './backoff.js';
import { parseServerTiming, type ServerTimingMetric } from './server-timing.js';

export const DEFAULT_SIGNALING_TIMEOUT_MS = 10_000;

export interface SignalingOptions {
  /** Whole request, headers and body, must finish within this (default 10 s). */
  timeoutMs?: number;
  /** The caller's cancellation (stop(), new src): rejects with ABORTED. */
  signal?: AbortSignal;
}

/** The answer, plus what the server said about its own time (`Server-Timing`), for the bench. */
export interface SignalingResult extends OfferResponse {
  serverTiming: readonly ServerTimingMetric[];
}

/** `${server}/api/offer`; '' means this page's origin. A trailing slash on `server` is fine. */
export function offerUrl(server: string): string {
  return `${server.replace(/\/+$/, '')}/api/offer`;
}

export const JSON_TYPE = 'application/json';
/** The same JSON, labelled so that a cross-origin POST is a CORS "simple request". */
export const TEXT_TYPE = 'text/plain;charset=utf-8';

/**
 * The Content-Type to post an offer to `url` with. Cross-origin, `application/json` makes the
 * browser send an OPTIONS preflight and wait for it before the offer (a whole extra round trip on
 * a page's first play, until the preflight is cached); the server takes the same JSON as
 * text/plain, which needs none. Same-origin (and outside a browser) there is no preflight: JSON.
 */
export function offerContentType(url: string, page: { href: string; origin: string } | undefined = globalThis.location): string {
  if (page === undefined) return JSON_TYPE;
  let target: string;
  try {
    target = new URL(url, page.href).origin;
  } catch {
    return JSON_TYPE; // fetch will report the bad URL
  }
  return target === page.origin ? JSON_TYPE : TEXT_TYPE;
}

/**
 * Throws PlayerError:
 * - SIGNALING_UNREACHABLE: the request failed at the network level (refused, reset, DNS, CORS);
 * - SIGNALING_TIMEOUT: no complete response within `timeoutMs`;
 * - SIGNALING_HTTP: a non-2xx status; `status`, `detail` = the server's error code, message = the
 *   server's message, `retryAfterMs` from Retry-After, `fatal` for 4xx other than 429;
 * - SIGNALING_BAD_RESPONSE: 2xx, but the body is not an answer;
 * - ABORTED: `options.signal` aborted (before or during the request).
 */
export async function requestAnswer(server: string, body: OfferRequest, options: SignalingOptions = {}): Promise<SignalingResult> {
  const { timeoutMs = DEFAULT_SIGNALING_TIMEOUT_MS, signal } = options;
  if (signal?.aborted) throw aborted(signal.reason);

  // One controller for both causes, so that we know which one fired: fetch only reports "aborted".
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  const onCallerAbort = () => controller.abort();
  signal?.addEventListener('abort', onCallerAbort, { once: true });

  const failure = (error: unknown, whileReading: boolean): PlayerError => {
    if (signal?.aborted) return aborted(error);
    if (timedOut) {
      return new PlayerError('SIGNALING_TIMEOUT', `the signaling server did not answer within ${timeoutMs} ms`, { cause: error });
    }
    return new PlayerError(
      'SIGNALING_UNREACHABLE',
      whileReading
        ? 'the connection to the signaling server broke while reading its answer'
        : // The browser does not say which: a refused connection and a CORS refusal look alike.
          'cannot reach the signaling server (network error, or it does not allow this origin)',
      { cause: error },
    );
  };

  try {
    const url = offerUrl(server);
    const json = JSON.stringify(body);
    const post = async (contentType: string): Promise<{ response: Response; text: string }> => {
      let response: Response;
      try {
        response = await fetch(url, { method: 'POST', headers: { 'Content-Type': contentType }, body: json, signal: controller.signal, cache: 'no-store' });
      } catch (error) {
        throw failure(error, false);
      }
      try {
        return { response, text: await response.text() };
      } catch (error) {
        throw failure(error, true);
      }
    };
    const contentType = offerContentType(url);
    let { response, text } = await post(contentType);
    // A server older than text/plain offers refuses them with 415: say it again as JSON (and pay
    // the preflight), once.
    if (response.status === 415 && contentType !== JSON_TYPE && parseErrorBody(tryParse(text))?.code === 'UNSUPPORTED_MEDIA_TYPE') {
      ({ response, text } = await post(JSON_TYPE));
    }
    const serverTiming = parseServerTiming(response.headers.get('Server-Timing'));
    if (!response.ok) throw httpError(response, text);
    let answer: OfferResponse;
    try {
      answer = parseOfferResponse(JSON.parse(text));
    } catch (error) {
      throw new PlayerError('SIGNALING_BAD_RESPONSE', `the signaling server answered ${response.status} without a usable answer`, {
        status: response.status,
        cause: error,
      });
    }
    return { answer: answer.answer, serverTiming };
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onCallerAbort);
  }
}

function aborted(cause: unknown): PlayerError {
  return new PlayerError('ABORTED', 'signaling was cancelled', { cause });
}

function tryParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined; // a proxy's HTML page, say: still an HTTP error, just without a server code
  }
}

function httpError(response: Response, text: string): PlayerError {
  const { status } = response;
  const serverError = parseErrorBody(tryParse(text));
  const message = serverError?.message || `the signaling server answered HTTP ${status}${response.statusText ? ` ${response.statusText}` : ''}`;
  return new PlayerError('SIGNALING_HTTP', message, {
    status,
    detail: serverError?.code,
    retryAfterMs: retryAfterMs(response.headers.get('Retry-After')),
    // A 4xx is the request's fault and will fail again; 429 is "later", like 5xx.
    fatal: status >= 400 && status < 500 && status !== 429,
  });
}
