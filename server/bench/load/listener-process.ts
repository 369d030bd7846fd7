/**
 * One load-generator process: opens LISTENERS wrtc peer connections to a server (ours or the bare
 * sender), each receiving one stream, and reports on stdout as JSON lines:
 *   {"type":"connected","setupMs":n} | {"type":"failed","error":s} | {"type":"closed"} (dropped after
 *   connecting) | {"type":"bytes","total":n} (every second) | {"type":"ready"} (all attempts made)
 * ~30 fds per client peer and the 20,000-fd limit keep it at ≤ 500 peers per process. It closes
 * every peer and exits on SIGTERM, on stdin closing (parent gone) or after LIFETIME_MS, whichever
 * comes first: it can never outlive the benchmark.
 *
 * Env: SERVER (base URL), SRC, LISTENERS, CONCURRENCY (default 10), LIFETIME_MS (default 180000).
 */
import { wrtc } from '../../peers/wrtc.js';
import { setLocalDescriptionWithCandidates } from '../../peers/local-candidates.js';

const server = process.env.SERVER!;
const src = process.env.SRC ?? 'five-minutes.mp3';
const count = Number(process.env.LISTENERS ?? 10);
const concurrency = Number(process.env.CONCURRENCY ?? 10);
const lifetimeMs = Number(process.env.LIFETIME_MS ?? 180_000);

const peers = new Set<RTCPeerConnection>();
let totalBytes = 0;
let closing = false;

const emit = (message: object) => process.stdout.write(`${JSON.stringify(message)}\n`);

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms))),
  ]);
}

async function listen(index: number): Promise<void> {
  const startedAt = performance.now();
  const peer = new wrtc.RTCPeerConnection({ iceServers: [] });
  peers.add(peer);
  try {
    const channel = peer.createDataChannel('audio', { ordered: true });
    channel.binaryType = 'arraybuffer';
    channel.onmessage = (event: MessageEvent) => {
      if (typeof event.data !== 'string') totalBytes += (event.data as ArrayBuffer).byteLength;
    };
    const opened = new Promise<void>((resolve, reject) => {
      channel.onopen = () => resolve();
      channel.onclose = () => reject(new Error('channel closed before opening'));
    });
    // wrtc has its host candidates within a millisecond: the first burst of them is enough.
    const { sdp } = await setLocalDescriptionWithCandidates(peer, await peer.createOffer(), 1000);
    const response = await withTimeout(
      fetch(`${server}/api/offer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ offer: { type: 'offer', sdp }, clientId: `load-${process.pid}-${index}`, src }),
      }),
      15_000,
      'POST /api/offer',
    );
    if (!response.ok) throw new Error(`POST /api/offer: HTTP ${response.status} ${await response.text()}`);
    const { answer } = (await response.json()) as { answer: RTCSessionDescriptionInit };
    await peer.setRemoteDescription(answer);
    await withTimeout(opened, 15_000, 'channel open');
    emit({ type: 'connected', setupMs: performance.now() - startedAt });
    // A listener the server drops (or that fails) while the bench runs is reported, so the
    // per-listener figures divide by the peers actually streaming.
    channel.onclose = () => {
      if (!closing) emit({ type: 'closed' });
    };
  } catch (error) {
    peers.delete(peer);
    peer.close();
    emit({ type: 'failed', error: error instanceof Error ? error.message : String(error) });
  }
}

async function main(): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (!closing && next < count) await listen(next++);
  });
  await Promise.all(workers);
  emit({ type: 'ready' });
}

function shutdown(): void {
  if (closing) return;
  closing = true;
  clearInterval(reporter);
  emit({ type: 'bytes', total: totalBytes });
  for (const peer of peers) peer.close();
  peers.clear();
  // wrtc's threads need a moment to wind down; exit regardless.
  setTimeout(() => process.exit(0), 500).unref();
}

const reporter = setInterval(() => emit({ type: 'bytes', total: totalBytes }), 1000);
setTimeout(shutdown, lifetimeMs).unref();
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
process.stdin.on('end', shutdown);
process.stdin.resume();
void main();
