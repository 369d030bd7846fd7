/**
 * A pass-through HTTP proxy in front of the server under test that notes, for every `/media/`
 * response, when its first body byte left for the browser: the "server-side timestamp" of the
 * native player's first audio byte (the page has no event for it). The whole page goes through it,
 * so both players pay the same extra loopback hop on their HTTP requests.
 * Timestamps are epoch ms with sub-ms resolution (performance.timeOrigin + performance.now()), the
 * same clock the page reports `play()` on.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface MediaResponseTiming {
  path: string;
  range: string | undefined;
  status: number;
  requestEpochMs: number;
  firstByteEpochMs: number | undefined;
  /** Body bytes passed to the browser, with when: (epoch ms, cumulative bytes) per data event. */
  progress: [number, number][];
}

/** Body bytes of `entry` the browser had been sent before `epochMs`. */
export function bytesBefore(entry: MediaResponseTiming, epochMs: number): number {
  let bytes = 0;
  for (const [at, total] of entry.progress) {
    if (at >= epochMs) break;
    bytes = total;
  }
  return bytes;
}

const epochNow = () => performance.timeOrigin + performance.now();

/** A POST /api/offer as the proxy saw it: in, forwarded answer's headers back, answer sent on (epoch ms). */
export interface OfferTiming {
  requestEpochMs: number;
  /** The request body was all in and passed on. */
  requestEndEpochMs: number | undefined;
  responseEpochMs: number | undefined;
  responseEndEpochMs: number | undefined;
}

export interface TimingProxy {
  url: string;
  media: MediaResponseTiming[];
  offers: OfferTiming[];
  /** Points the proxy at another upstream (a restarted server). */
  setUpstream(upstream: string): void;
  close(): Promise<void>;
}

/**
 * `connectTo`: origins the pages it serves may also fetch from (added to the server's CSP
 * `connect-src`, which says `'self'`): the bench's cross-origin signaling case.
 */
export async function startTimingProxy(upstream: string, connectTo: string[] = []): Promise<TimingProxy> {
  let target = new URL(upstream);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const media: MediaResponseTiming[] = [];
  const offers: OfferTiming[] = [];
  const server = http.createServer((request, response) => {
    const offer: OfferTiming | undefined =
      request.method === 'POST' && request.url === '/api/offer'
        ? { requestEpochMs: epochNow(), requestEndEpochMs: undefined, responseEpochMs: undefined, responseEndEpochMs: undefined }
        : undefined;
    if (offer) {
      offers.push(offer);
      request.once('end', () => (offer.requestEndEpochMs = epochNow()));
      response.once('finish', () => (offer.responseEndEpochMs = epochNow()));
    }
    const entry: MediaResponseTiming | undefined = request.url?.startsWith('/media/')
      ? { path: request.url, range: request.headers.range, status: 0, requestEpochMs: epochNow(), firstByteEpochMs: undefined, progress: [] }
      : undefined;
    if (entry) media.push(entry);
    const forward = http.request(
      { agent, host: target.hostname, port: target.port, method: request.method, path: request.url, headers: request.headers },
      (upstreamResponse) => {
        if (offer) offer.responseEpochMs = epochNow();
        const headers = { ...upstreamResponse.headers };
        const csp = headers['content-security-policy'];
        if (connectTo.length > 0 && typeof csp === 'string') {
          headers['content-security-policy'] = csp.replace(/connect-src ([^;]*)/, (_, sources: string) => `connect-src ${sources} ${connectTo.join(' ')}`);
        }
        response.writeHead(upstreamResponse.statusCode ?? 502, headers);
        if (entry) {
          entry.status = upstreamResponse.statusCode ?? 0;
          upstreamResponse.once('data', () => (entry.firstByteEpochMs = epochNow()));
          let total = 0;
          upstreamResponse.on('data', (data: Buffer) => {
            total += data.byteLength;
            entry.progress.push([epochNow(), total]);
          });
        }
        upstreamResponse.pipe(response);
      },
    );
    forward.on('error', () => {
      if (!response.headersSent) response.writeHead(502);
      response.end();
    });
    response.on('close', () => forward.destroy());
    request.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    media,
    offers,
    setUpstream: (next) => {
      target = new URL(next);
    },
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
