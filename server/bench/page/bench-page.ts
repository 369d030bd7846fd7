/**
 * The benchmark page: one fresh page per measured run. It exposes `window.bench`, which the
 * puppeteer driver (server/bench/browser.ts) calls. Every player is heard the same way: whatever
 * is connected to the AudioContext's destination is also connected to one tap bus, and the output
 * tap reports when the first audible sample reached the output device (page time).
 */
import { connectQuietly, onDestinationConnect } from './connect-hook.js'; // first: sees every connect
import '../../../components/rtc-audio-player.js';
import { sharedAudioContext } from '../../../components/playback/audio-context.js';
import { createOutputTap, type OutputTap } from '../../../components/test/output-tap.js';
import { StreamConnection } from '../../../components/connection/stream-connection.js';
import { measureOneShotDecode, measureStreamingDecode } from '../../../components/decoder/decode-bench.js';
import { PlayerController } from '../../../components/player-controller.js';

interface PlayerLike extends HTMLElement {
  play(): Promise<void>;
  pause(): void;
  stop(): void;
  readonly state: string;
  readonly timing?: Readonly<Record<string, unknown>>;
  readonly stats?: Readonly<{ bytesReceived: number }>;
}

const AUDIBLE_THRESHOLD = 1e-3;
const context = sharedAudioContext();
const bus = context.createGain();
let wiringTap = false;
onDestinationConnect((node, destination) => {
  if (!wiringTap && destination.context === context && node !== bus) connectQuietly(node, bus);
});

const ready = (async () => {
  await context.resume();
  if (context.state !== 'running') throw new Error(`AudioContext is ${context.state} (autoplay flag missing?)`);
})();

/** The tap on the bus, made before any player exists (it records from its creation on). */
async function makeTap(): Promise<OutputTap> {
  await ready;
  wiringTap = true; // the tap connects itself to the destination: that is not a player
  try {
    return await createOutputTap(context, bus, { maxSeconds: 60 });
  } finally {
    wiringTap = false;
  }
}

function mediaUrl(src: string): string {
  return `/media/${src.split('/').map(encodeURIComponent).join('/')}`;
}

function timeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms)),
  ]);
}

function nextEvent(target: EventTarget, type: string, ms: number, accept: (event: Event) => boolean = () => true): Promise<number> {
  return timeout(
    new Promise<number>((resolve, reject) => {
      const onEvent = (event: Event) => {
        if (!accept(event)) return;
        target.removeEventListener(type, onEvent);
        resolve(performance.now());
      };
      target.addEventListener(type, onEvent);
      if (type !== 'error') target.addEventListener('error', (event) => reject(new Error(`error event: ${(event as ErrorEvent).message ?? ''}`)), { once: true });
    }),
    ms,
    `event ${type}`,
  );
}

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/**
 * Cold (preload=none) cases press play this long after the player was added, for both players: a
 * user clicks a player the page has shown, not in the task that created it. Neither player may
 * fetch or connect meanwhile (preload=none); ours only does work that sends nothing (see
 * components/connection/spare-peer.ts). Play in the very task of the attach measured that work
 * as start-up time.
 */
const COLD_SETTLE_MS = 300;

async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await settle(10);
}

export interface StartResult {
  /** performance.timeOrigin + performance.now() at play(), for matching server-side timestamps. */
  playEpochMs: number;
  /** ms from play() to the first audible sample at the output. */
  audibleMs: number;
  /** ms from play() to the `playing` event. */
  playingMs: number;
  /** The element's `timing`, each mark in ms relative to play() (ours only). */
  timing: Record<string, number>;
  /** Audio bytes the element had received before play() (ours only; native: the proxy counts). */
  bytesBeforePlay?: number;
}

async function measurePlay(tap: OutputTap, target: EventTarget, play: () => Promise<void>): Promise<Omit<StartResult, 'timing'>> {
  const playing = nextEvent(target, 'playing', 20000);
  const playAt = performance.now();
  const playEpochMs = performance.timeOrigin + playAt;
  await timeout(play(), 20000, 'play()');
  const audible = await tap.whenAudible(AUDIBLE_THRESHOLD, 20000);
  tap.close();
  return { playEpochMs, audibleMs: audible.pageTime - playAt, playingMs: (await playing) - playAt };
}

async function nativeStart(options: { src: string; preload: 'none' | 'metadata' | 'auto' }): Promise<StartResult> {
  const tap = await makeTap();
  const audio = new Audio();
  audio.preload = options.preload;
  audio.src = mediaUrl(options.src);
  document.body.append(audio);
  context.createMediaElementSource(audio).connect(context.destination);
  if (options.preload === 'auto') {
    await nextEvent(audio, 'canplaythrough', 20000);
    await settle(300);
  } else if (options.preload === 'metadata') {
    if (audio.readyState < HTMLMediaElement.HAVE_METADATA) await nextEvent(audio, 'loadedmetadata', 20000);
    await settle(300);
  } else {
    await settle(COLD_SETTLE_MS);
  }
  try {
    const result = await measurePlay(tap, audio, () => audio.play());
    return { ...result, timing: {} };
  } finally {
    audio.pause();
  }
}

function offerEntry(): PerformanceResourceTiming | undefined {
  const entries = performance.getEntriesByType('resource') as PerformanceResourceTiming[];
  return entries.filter((entry) => new URL(entry.name).pathname === '/api/offer').at(-1);
}

/** The offer request's own phases (Resource Timing; performance.now() values, 0 when not applicable). */
const HTTP_PHASES = ['fetchStart', 'connectStart', 'connectEnd', 'requestStart', 'responseStart', 'responseEnd'] as const;

function relativeTiming(timing: Readonly<Record<string, unknown>> | undefined, origin: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, value] of Object.entries(timing ?? {})) if (typeof value === 'number' && Number.isFinite(value)) out[name] = value - origin;
  return out;
}

async function oursStart(options: { src: string; preload: 'none' | 'metadata' | 'auto'; bufferSeconds?: number; server?: string }): Promise<StartResult> {
  const tap = await makeTap();
  const player = document.createElement('rtc-audio-player') as PlayerLike;
  if (options.server !== undefined) player.setAttribute('server', options.server);
  player.setAttribute('preload', options.preload);
  if (options.bufferSeconds !== undefined) player.setAttribute('buffer-seconds', String(options.bufferSeconds));
  player.setAttribute('src', options.src);
  document.body.append(player);
  if (options.preload === 'auto') {
    if (player.state !== 'ready') await nextEvent(player, 'statechange', 20000, () => player.state === 'ready');
    await settle(300);
  } else if (options.preload === 'metadata') {
    // The pre-connection: channel open and metadata received before the user presses play.
    await timeout(waitFor(() => player.timing?.metadata !== undefined), 20000, 'preload=metadata pre-connection');
    await settle(300);
  } else {
    await settle(COLD_SETTLE_MS);
  }
  const bytesBeforePlay = player.stats?.bytesReceived ?? 0;
  const result = await measurePlay(tap, player, () => player.play()).catch((error: unknown) => {
    // Say where the element got stuck, not only that it did.
    const failure = (player as PlayerLike & { error?: { code?: string; message?: string } | null }).error;
    const marks = Object.keys(player.timing ?? {}).join(',');
    throw new Error(`${error instanceof Error ? error.message : String(error)} [state=${player.state}${failure ? ` error=${failure.code}: ${failure.message}` : ''} marks=${marks}]`);
  });
  // Marks are performance.now() values; relative to the element's own playRequested mark.
  const requested = player.timing?.playRequested;
  const origin = typeof requested === 'number' ? requested : result.playEpochMs - performance.timeOrigin;
  const timing = relativeTiming(player.timing, origin);
  // The server's own account of its answer (Server-Timing on POST /api/offer, via Resource Timing).
  const offer = offerEntry();
  for (const metric of offer?.serverTiming ?? []) timing[`server.${metric.name}`] = metric.duration;
  for (const phase of HTTP_PHASES) if (offer && offer[phase] > 0) timing[`http.${phase}`] = offer[phase] - origin;
  timing.audible = result.audibleMs + (result.playEpochMs - performance.timeOrigin - origin);
  player.stop();
  return { ...result, timing, bytesBeforePlay };
}

async function throughputRtc(options: { src: string }): Promise<{ bytes: number; setupMs: number; streamMs: number }> {
  let bytes = 0;
  let firstAt = 0;
  const startedAt = performance.now();
  const done = new Promise<number>((resolve, reject) => {
    const connection = new StreamConnection(
      { server: '', src: options.src, clientId: crypto.randomUUID(), stallTimeoutMs: 15000 },
      {
        metadata: () => undefined,
        chunk: (chunk) => {
          if (!firstAt) firstAt = performance.now();
          bytes += chunk.byteLength;
        },
        complete: () => {
          resolve(performance.now());
          connection.close();
        },
        error: (error) => reject(error),
      },
    );
    connection.open().catch(reject);
  });
  const completeAt = await timeout(done, 60000, 'DataChannel transfer');
  return { bytes, setupMs: firstAt - startedAt, streamMs: completeAt - firstAt };
}

async function throughputHttp(options: { src: string }): Promise<{ bytes: number; setupMs: number; streamMs: number }> {
  const startedAt = performance.now();
  const response = await fetch(mediaUrl(options.src), { cache: 'no-store' });
  if (!response.ok || !response.body) throw new Error(`GET ${options.src}: HTTP ${response.status}`);
  const reader = response.body.getReader();
  let bytes = 0;
  let firstAt = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (!firstAt) firstAt = performance.now();
    bytes += value.byteLength;
  }
  return { bytes, setupMs: firstAt - startedAt, streamMs: performance.now() - firstAt };
}

/**
 * Signaling recipes side by side, on a bare RTCPeerConnection: the usual non-trickle recipe (the
 * client waits for ICE gathering to complete before posting its offer) vs posting the offer as
 * soon as the local description is set (what StreamConnection does). ms from `new
 * RTCPeerConnection` to the first binary chunk. Shows the start-up fix before/after.
 */
async function setupRecipe(options: { src: string; waitForGathering: boolean }): Promise<{ offerPostedMs: number; firstChunkMs: number }> {
  const startedAt = performance.now();
  const peer = new RTCPeerConnection({ iceServers: [] });
  try {
    const channel = peer.createDataChannel('audio', { ordered: true });
    channel.binaryType = 'arraybuffer';
    const firstChunk = new Promise<number>((resolve) => {
      channel.onmessage = (event: MessageEvent) => {
        if (typeof event.data !== 'string') resolve(performance.now());
      };
    });
    await peer.setLocalDescription(await peer.createOffer());
    if (options.waitForGathering && peer.iceGatheringState !== 'complete') {
      await new Promise<void>((resolve) => peer.addEventListener('icegatheringstatechange', () => peer.iceGatheringState === 'complete' && resolve()));
    }
    const offerPostedAt = performance.now();
    const response = await fetch('/api/offer', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ offer: { type: 'offer', sdp: peer.localDescription!.sdp }, clientId: crypto.randomUUID(), src: options.src }),
    });
    if (!response.ok) throw new Error(`POST /api/offer: HTTP ${response.status}`);
    const { answer } = (await response.json()) as { answer: RTCSessionDescriptionInit };
    await peer.setRemoteDescription(answer);
    const firstChunkAt = await timeout(firstChunk, 15000, 'first chunk');
    return { offerPostedMs: offerPostedAt - startedAt, firstChunkMs: firstChunkAt - startedAt };
  } finally {
    peer.close();
  }
}

// Decode: the bytes are fetched first (not measured), then the driver measures CPU around decode().
let decodeBytes: ArrayBuffer | undefined;
async function loadForDecode(options: { src: string }): Promise<number> {
  const response = await fetch(mediaUrl(options.src), { cache: 'no-store' });
  if (!response.ok) throw new Error(`GET ${options.src}: HTTP ${response.status}`);
  decodeBytes = await response.arrayBuffer();
  return decodeBytes.byteLength;
}

/** One decode of the loaded file: ours (StreamDecoder fed 64 KiB pushes) or one-shot decodeAudioData. */
async function decode(options: { mode: 'native' | 'ours'; mimeType: string; decoder?: 'auto' | 'webcodecs' | 'segments' }): Promise<{ seconds: number; wallMs: number; firstPcmMs?: number; maxHeldBytes?: number }> {
  if (!decodeBytes) throw new Error('loadForDecode() first');
  const bytes = new Uint8Array(decodeBytes);
  if (options.mode === 'native') {
    const result = await measureOneShotDecode(bytes, context.sampleRate);
    return { seconds: result.audioSeconds, wallMs: result.wallMs };
  }
  const result = await measureStreamingDecode(bytes, options.mimeType, 65536, true, options.decoder ?? 'auto');
  return { seconds: result.audioSeconds, wallMs: result.wallMs, firstPcmMs: result.firstPcmMs, maxHeldBytes: result.maxHeldBytes };
}

// Memory: play for a while, then the driver reads heap and process memory. Ours also reports the
// audio it holds (its public `memory`: compressed bytes not yet decoded + PCM not yet played),
// sampled every 250 ms; `ours-unbounded` is ours with receive-side flow control off (a window
// that is unbounded: the server is never held), i.e. the player before flow control.
export interface HeldAudio {
  peakHeldBytes: number;
  peakCompressedBytes: number;
  peakPcmBytes: number;
  heldBytes: number;
  bytesReceived: number;
}

async function playFor(options: { player: 'ours' | 'ours-unbounded' | 'native'; src: string; seconds: number }): Promise<{ position: number; held?: HeldAudio }> {
  await ready;
  if (options.player === 'native') {
    const audio = new Audio(mediaUrl(options.src));
    document.body.append(audio);
    context.createMediaElementSource(audio).connect(context.destination);
    await audio.play();
    await settle(options.seconds * 1000);
    return { position: audio.currentTime };
  }
  if (options.player === 'ours-unbounded') PlayerController.flowWindow = { seconds: Number.POSITIVE_INFINITY, minBytes: Number.POSITIVE_INFINITY };
  type Ours = PlayerLike & { currentTime: number; memory: { compressedBytes: number; pcmBytes: number }; stats: { bytesReceived: number } };
  const player = document.createElement('rtc-audio-player') as Ours;
  player.setAttribute('src', options.src);
  document.body.append(player);
  await player.play();
  const held: HeldAudio = { peakHeldBytes: 0, peakCompressedBytes: 0, peakPcmBytes: 0, heldBytes: 0, bytesReceived: 0 };
  const sample = () => {
    const { compressedBytes, pcmBytes } = player.memory;
    held.peakHeldBytes = Math.max(held.peakHeldBytes, compressedBytes + pcmBytes);
    held.peakCompressedBytes = Math.max(held.peakCompressedBytes, compressedBytes);
    held.peakPcmBytes = Math.max(held.peakPcmBytes, pcmBytes);
    held.heldBytes = compressedBytes + pcmBytes;
    held.bytesReceived = player.stats.bytesReceived;
  };
  const timer = setInterval(sample, 250);
  await settle(options.seconds * 1000);
  clearInterval(timer);
  sample();
  return { position: player.currentTime, held };
}

const bench = { ready: () => ready.then(() => ({ sampleRate: context.sampleRate, baseLatency: context.baseLatency, outputLatency: context.outputLatency })), nativeStart, oursStart, setupRecipe, throughputRtc, throughputHttp, loadForDecode, decode, playFor };
export type BenchApi = typeof bench;
(window as unknown as { bench: BenchApi }).bench = bench;
