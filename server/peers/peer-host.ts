/**
 * Keeps every peer in a supervised child process (peer-worker.ts) so that a native crash in
 * @roamhq/wrtc takes down only the streams of that process, never the HTTP server: the process is
 * respawned (backoff), offers in flight get 503 SERVER_BUSY with Retry-After, and clients resume
 * from their byte offset as after any network failure. The mediasoup shape (native media in
 * workers, the signaling process supervises).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { OfferRequest } from '../../components/protocol';
import { HttpError } from '../errors';
import type { AudioFile } from '../library/audio-library';
import type { Logger } from '../log';
import type { StreamFaults } from '../streaming/stream-session';
import type { HostMessage, WorkerMessage } from './peer-ipc';
import type { AcceptedOffer, PeerStats } from './peer-manager';
import type { PeerService } from './peer-service';

const WORKER = fileURLToPath(new URL('./peer-worker.ts', import.meta.url));
/** How long an offer waits for a (re)starting peer process before it gets 503. */
const READY_WAIT_MS = 10_000;
const RESPAWN_MS = [100, 500, 2000, 5000];

interface Pending {
  resolve(accepted: AcceptedOffer): void;
  reject(error: unknown): void;
}

export interface PeerHostStats extends PeerStats {
  /** The peer process (fds/threads of the peers are counted there). */
  peerProcessPid: number | undefined;
  /** Times the peer process died unexpectedly and was respawned. */
  peerProcessRestarts: number;
}

export class PeerHost implements PeerService {
  private child: ChildProcess | undefined;
  private ready: Promise<ChildProcess> | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private last: PeerStats;
  private restarts = 0;
  /** Peer counts of processes that died, so created/closed stay cumulative. */
  private carried = { peersCreated: 0, peersClosed: 0, closeReasons: {} as PeerStats['closeReasons'] };
  private shuttingDown = false;
  private quickDeaths = 0;

  constructor(
    private readonly maxPeers: number,
    private readonly log: Logger,
    private readonly env: NodeJS.ProcessEnv = process.env,
    /** Durations the HTTP process already knows, passed along so the peer process need not scan. */
    private readonly durationOf: (file: AudioFile) => number | undefined = () => undefined,
  ) {
    this.last = { activePeers: 0, maxPeers, peersCreated: 0, peersClosed: 0, closeReasons: {} };
    this.spawn();
  }

  get activePeers(): number {
    return this.last.activePeers;
  }

  stats(): PeerHostStats {
    const reasons = { ...this.carried.closeReasons };
    for (const [reason, count] of Object.entries(this.last.closeReasons)) {
      const key = reason as keyof PeerStats['closeReasons'];
      reasons[key] = (reasons[key] ?? 0) + (count ?? 0);
    }
    return {
      activePeers: this.last.activePeers,
      maxPeers: this.maxPeers,
      peersCreated: this.carried.peersCreated + this.last.peersCreated,
      peersClosed: this.carried.peersClosed + this.last.peersClosed,
      closeReasons: reasons,
      peerProcessPid: this.child?.pid,
      peerProcessRestarts: this.restarts,
    };
  }

  async accept(request: OfferRequest, file: AudioFile, faults?: StreamFaults): Promise<AcceptedOffer> {
    if (this.shuttingDown) throw busy('the server is shutting down');
    const child = await this.whenReady();
    const id = this.nextId++;
    return new Promise<AcceptedOffer>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const duration = this.durationOf(file);
      const message: HostMessage = { type: 'accept', id, request, file, ...(faults ? { faults } : {}), ...(duration !== undefined ? { duration } : {}) };
      child.send(message, (error) => {
        if (error && this.pending.delete(id)) reject(busy('the stream service is restarting'));
      });
    });
  }

  /** Asks the peer process to close every peer (clients hear SHUTTING_DOWN) and waits for it to exit. */
  async closeAll(timeoutMs = 5000): Promise<void> {
    this.shuttingDown = true;
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      child.send({ type: 'close' } satisfies HostMessage);
    } catch {
      // the channel is gone: the process is exiting on its own
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
    if ((await Promise.race([exited, timeout])) === 'timeout') child.kill('SIGKILL');
    clearTimeout(timer);
  }

  private whenReady(): Promise<ChildProcess> {
    const ready = this.ready;
    if (ready === undefined) return Promise.reject(busy('the stream service is restarting'));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(busy('the stream service is starting')), READY_WAIT_MS);
    });
    return Promise.race([ready, timeout]).finally(() => clearTimeout(timer));
  }

  private spawn(): void {
    const child = fork(WORKER, [], { execArgv: ['--import', 'tsx'], env: this.env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child = child;
    const startedAt = Date.now();
    this.ready = new Promise<ChildProcess>((resolve) => {
      child.on('message', (message: WorkerMessage) => {
        if (message.type === 'ready') resolve(child);
        else this.received(message);
      });
    });
    this.ready.catch(() => undefined);
    child.once('exit', (code, signal) => this.exited(child, code, signal, Date.now() - startedAt));
  }

  private received(message: WorkerMessage): void {
    if (message.type === 'stats') this.last = message.stats;
    else if (message.type === 'accepted' || message.type === 'refused') {
      const pending = this.pending.get(message.id);
      if (pending === undefined) return;
      this.pending.delete(message.id);
      if (message.type === 'accepted') pending.resolve(message.accepted);
      else pending.reject(new HttpError(message.status, message.code, message.message, message.headers));
    }
  }

  private exited(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null, livedMs: number): void {
    if (child !== this.child) return;
    this.ready = undefined;
    // The dead process's streams are gone: their clients reconnect; keep the totals cumulative.
    this.carried.peersCreated += this.last.peersCreated;
    this.carried.peersClosed += this.last.peersCreated; // every peer it held is closed now
    for (const [reason, count] of Object.entries(this.last.closeReasons)) {
      const key = reason as keyof PeerStats['closeReasons'];
      this.carried.closeReasons[key] = (this.carried.closeReasons[key] ?? 0) + (count ?? 0);
    }
    const lost = this.last.activePeers;
    if (lost > 0) this.carried.closeReasons['process-died'] = (this.carried.closeReasons['process-died'] ?? 0) + lost;
    this.last = { activePeers: 0, maxPeers: this.maxPeers, peersCreated: 0, peersClosed: 0, closeReasons: {} };
    for (const pending of this.pending.values()) pending.reject(busy('the stream service restarted'));
    this.pending.clear();
    if (this.shuttingDown) return;
    this.restarts += 1;
    this.log.error(`peer process ${child.pid} died (${signal ?? `exit ${code}`}); ${lost} streams lost; respawning`);
    this.quickDeaths = livedMs < 10_000 ? this.quickDeaths + 1 : 0;
    const wait = RESPAWN_MS[Math.min(this.quickDeaths, RESPAWN_MS.length - 1)]!;
    const respawned = new Promise<ChildProcess>((resolve, reject) => {
      setTimeout(() => {
        if (this.shuttingDown) return reject(busy('the server is shutting down'));
        this.spawn();
        this.ready!.then(resolve, reject);
      }, wait);
    });
    respawned.catch(() => undefined);
    this.ready = respawned;
  }
}

function busy(message: string): HttpError {
  return new HttpError(503, 'SERVER_BUSY', message, { 'Retry-After': '1' });
}
