// Helpers of the element's e2e tests: a real server (through the wtr server plugin), its fault
// hooks, players mounted in the page, and recorders of what a player did and received.
import { executeServerCommand } from '@web/test-runner-commands';
import type { PlayerState } from '../../player-state.js';
import type { RtcAudioPlayer } from '../../rtc-audio-player.js';
import '../../rtc-audio-player.js';
import { startTestServer, stopTestServer, type TestServer } from '../live-server.js';

export { activePeers, clearFaults, setFaults, sha256, sleep, waitFor, type Faults, type TestServer } from '../live-server.js';

export const LIBRARY = 'components/test/e2e/library';
/** 8 s, 320 kbit/s: 322917 bytes, 5 chunks. */
export const MUSIC = 'music-8s.mp3';
/** 3 s, 128 kbit/s: shorter than any start buffer used here. */
export const SHORT = 'short-3s.mp3';

/** Slow pacing (one 64 KiB chunk per `1/chunksPerSecond` s after the first), so faults land mid-stream. */
export function slowPacing(chunksPerSecond = 4): Record<string, string> {
  return { PACE_CHUNKS_PER_SECOND: String(chunksPerSecond), BURST_BYTES: '65536', BURST_MS: '0' };
}

export function startServer(env: Record<string, string> = {}): Promise<TestServer> {
  return startTestServer(LIBRARY, env);
}

export { stopTestServer as stopServer };

export async function fileSha256(server: TestServer, src: string): Promise<string> {
  return (await executeServerCommand('file-sha256', { path: `${server.audioDir}/${src}` })) as string;
}

/** Everything a player did: its states, events, received bytes, and positions seen. */
export class PlayerRecorder {
  readonly states: PlayerState[] = [];
  readonly events: string[] = [];
  readonly positions: number[] = [];
  readonly progress: Array<{ loaded: number; total: number }> = [];
  readonly chunks: Array<{ offset: number; bytes: Uint8Array; at: number }> = [];
  constructor(player: RtcAudioPlayer) {
    this.states.push(player.state);
    player.addEventListener('statechange', (event) => this.states.push(event.detail.state));
    for (const name of ['play', 'playing', 'pause', 'waiting', 'ended', 'error', 'durationchange', 'emptied', 'volumechange'] as const) {
      player.addEventListener(name, () => this.events.push(name));
    }
    player.addEventListener('timeupdate', () => this.positions.push(player.currentTime));
    player.addEventListener('progress', (event) => this.progress.push({ loaded: event.loaded, total: event.total }));
    // Copies: the decoder may keep (and the engine may transfer) the views it was given.
    player.controller.chunkObserver = (bytes, offset) => this.chunks.push({ offset, bytes: bytes.slice(), at: performance.now() });
  }

  /** The received bytes, checked to be contiguous from byte 0. */
  received(): Uint8Array {
    const total = this.chunks.reduce((sum, chunk) => sum + chunk.bytes.byteLength, 0);
    const out = new Uint8Array(total);
    let at = 0;
    for (const chunk of this.chunks) {
      if (chunk.offset !== at) throw new Error(`chunk at ${chunk.offset} does not continue byte ${at}`);
      out.set(chunk.bytes, at);
      at += chunk.bytes.byteLength;
    }
    return out;
  }

  /** Whether the positions seen never went backwards. */
  /** Longest wait between two received chunks, in ms: under a fault, outage + recovery as the client saw it. */
  longestChunkGapMs(): number {
    let longest = 0;
    for (let i = 1; i < this.chunks.length; i++) longest = Math.max(longest, this.chunks[i]!.at - this.chunks[i - 1]!.at);
    return longest;
  }

  monotonic(): boolean {
    return this.positions.every((value, i) => i === 0 || value >= this.positions[i - 1]!);
  }
}

export interface MountOptions {
  src: string;
  server: TestServer;
  bufferSeconds?: number;
  preload?: 'none' | 'metadata' | 'auto';
  maxRetries?: number;
}

/** Creates a player with a recorder attached before it can connect, and adds it to the page. */
export function mount(options: MountOptions): { player: RtcAudioPlayer; recorder: PlayerRecorder } {
  const player = document.createElement('rtc-audio-player');
  player.server = options.server.url;
  player.preload = options.preload ?? 'none';
  if (options.bufferSeconds !== undefined) player.bufferSeconds = options.bufferSeconds;
  if (options.maxRetries !== undefined) player.maxRetries = options.maxRetries;
  player.src = options.src;
  const recorder = new PlayerRecorder(player);
  document.body.append(player);
  return { player, recorder };
}

/**
 * Tracks every RTCPeerConnection the page creates (real ones: a subclass that only records), so a
 * test can tell whether any is still open. Installed once per test file.
 */
export function trackPeerConnections(): {
  open(): number;
  created(): number;
  /** Calls `callback` (once) right after the next RTCPeerConnection is constructed. */
  onNextCreated(callback: () => void): void;
} {
  const created: RTCPeerConnection[] = [];
  let next: (() => void) | undefined;
  const Native = window.RTCPeerConnection;
  class Tracked extends Native {
    constructor(configuration?: RTCConfiguration) {
      super(configuration);
      created.push(this);
      const callback = next;
      next = undefined;
      callback?.();
    }
  }
  window.RTCPeerConnection = Tracked;
  return {
    open: () => created.filter((pc) => pc.connectionState !== 'closed' && pc.signalingState !== 'closed').length,
    created: () => created.length,
    onNextCreated: (callback) => {
      next = callback;
    },
  };
}
