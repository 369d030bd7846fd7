// Browser-test helpers for the connection tests: a real server process (through the wtr server
// plugin), its test fault hooks, and a listener that records what a StreamConnection reported.
import { concat, startTestServer, stopTestServer, type TestServer } from '../test/live-server.js';
import type { PlayerError } from '../errors.js';
import type { MetadataMessage } from '../protocol.js';
import type { ConnectionMark, StreamConnection, StreamConnectionListener } from './stream-connection.js';

export { activePeers, clearFaults, concat, setFaults, sha256, sleep, waitFor, type Faults, type TestServer } from '../test/live-server.js';

/**
 * A small MP3 committed beside these tests: 89069 bytes, two chunks (65536 + 23533); 5.5 s of
 * 440/660 Hz made by this project (`ffmpeg -f lavfi -i sine=frequency=440:duration=5.5 -f lavfi
 * -i sine=frequency=660:duration=5.5 -filter_complex amerge -c:a libmp3lame -b:a 128k tone.mp3`).
 */
export const TEST_LIBRARY = 'components/connection/test-library';
export const TONE = 'tone.mp3';

/**
 * A real server with the test hooks on. Its peers that never open a channel (a client that gave up
 * mid-handshake cannot tell the server) are dropped after 3 s instead of 15, so tests can check
 * that every peer goes away.
 */
export function startServer(env: Record<string, string> = {}, library = TEST_LIBRARY): Promise<TestServer> {
  return startTestServer(library, { CHANNEL_OPEN_TIMEOUT_MS: '3000', ...env });
}

export { stopTestServer as stopServer };

export async function fetchOriginal(server: TestServer, src = TONE): Promise<Uint8Array> {
  const response = await fetch(`${server.url}/media/${src}`);
  if (!response.ok) throw new Error(`GET /media/${src}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

export type Ending = { kind: 'complete' } | { kind: 'error'; error: PlayerError };

/** A listener that records every call, in order, and resolves `ended` at complete or error. */
export class Recorder implements StreamConnectionListener {
  readonly calls: string[] = [];
  readonly chunks: Uint8Array[] = [];
  readonly offsets: number[] = [];
  /** The connection's state at each call (when {@link watch}ed). */
  readonly states: string[] = [];
  #connection: { readonly state: string } | undefined;
  metadataMessage: MetadataMessage | undefined;
  readonly ended: Promise<Ending>;
  #end!: (ending: Ending) => void;

  constructor() {
    this.ended = new Promise((resolve) => (this.#end = resolve));
  }

  watch(connection: { readonly state: string }): void {
    this.#connection = connection;
  }

  #record(call: string): void {
    this.calls.push(call);
    if (this.#connection) this.states.push(this.#connection.state);
  }

  metadata(message: MetadataMessage): void {
    this.#record('metadata');
    this.metadataMessage = message;
  }

  chunk(bytes: Uint8Array, fileOffset: number): void {
    this.#record('chunk');
    this.chunks.push(bytes);
    this.offsets.push(fileOffset);
  }

  complete(): void {
    this.#record('complete');
    this.#end({ kind: 'complete' });
  }

  error(error: PlayerError): void {
    this.#record(`error:${error.code}`);
    this.#end({ kind: 'error', error });
  }

  get bytes(): Uint8Array {
    return concat(this.chunks);
  }

  get received(): number {
    return this.chunks.reduce((n, c) => n + c.byteLength, 0);
  }
}

/**
 * Resolves within a fraction of a millisecond of `connection.timing[mark]` being set: it yields
 * one task at a time through a MessageChannel (setTimeout would clamp to 4 ms, and some marks are
 * only a few ms apart). Meant for waits of tens of milliseconds.
 */
export async function untilMark(connection: StreamConnection, mark: ConnectionMark, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  const channel = new MessageChannel();
  const nextTask = () => new Promise<void>((resolve) => {
    channel.port1.onmessage = () => resolve();
    channel.port2.postMessage(null);
  });
  try {
    while (connection.timing[mark] === undefined) {
      if (performance.now() > deadline) throw new Error(`timed out waiting for mark ${mark}`);
      await nextTask();
    }
  } finally {
    channel.port1.close();
  }
}

/** Resolves with what `promise` rejected with; fails if it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<PlayerError> {
  try {
    await promise;
  } catch (error) {
    return error as PlayerError;
  }
  throw new Error('expected a rejection');
}
