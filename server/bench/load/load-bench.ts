/**
 * Server cost per listener: the real server (server/main.ts) with N paced listeners, beside bare
 * wrtc peers doing nothing but sending the same bytes at the same pace (bare-sender.ts). Node
 * only. Listeners are wrtc peers in bounded child processes (listener-process.ts, ≤ 250 each);
 * every process has a lifetime cap, and everything is stopped before the next measurement.
 *
 * Pace: PACE_CHUNKS_PER_SECOND=0.25 with no start-up burst, i.e. 16 KiB/s (128 kbit/s, an MP3's
 * rate) per listener: one 64 KiB chunk every 4 s; the bare sender sends the same.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { processTree } from '../browser.js';
import type { BenchMedia } from '../media.js';
import { processStats, projectRoot, startServer, type ProcessStats } from '../server-process.js';
import { formatNumber, formatSummary, markdownTable, summarize } from '../stats.js';

const PEERS_PER_PROCESS = 250;
const PACE_CHUNKS_PER_SECOND = 0.25;
const BYTES_PER_SECOND = PACE_CHUNKS_PER_SECOND * 65536;
const CONNECT_DEADLINE_MS = 120_000;

/** CPU of the server and its descendants: its peers live in a child process (server/peers/peer-host.ts). */
function treeCpuMs(pid: number): number {
  return processTree(pid).reduce((sum, entry) => sum + entry.cpuMs, 0);
}

export interface LoadResult {
  markdown: string;
  raw: unknown;
}

interface LoadOptions {
  media: BenchMedia;
  listeners: number[];
  windowSeconds: number;
  log(line: string): void;
  attempt<T>(section: string, what: string, measure: () => Promise<T>): Promise<T | undefined>;
}

interface Target {
  url: string;
  pid: number;
  stop(): Promise<unknown>;
}

interface LoadSample {
  kind: 'ours' | 'bare';
  listeners: number;
  connected: number;
  failed: number;
  /** Connected listeners still open at the end of the window (the server may drop some). */
  streaming: number;
  firstErrors: string[];
  setupMs: number[];
  idle: ProcessStats;
  loaded: ProcessStats;
  cpuPercent: number;
  deliveredBytesPerSecond: number;
  windowSeconds: number;
}

async function startBare(): Promise<Target> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(projectRoot, 'server/bench/load/bare-sender.ts')], {
    cwd: projectRoot,
    env: { ...process.env, PACE_CHUNKS_PER_SECOND: String(PACE_CHUNKS_PER_SECOND) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('bare sender did not start')), 20000);
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      const match = /listening on (http:\/\/\S+)/.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.once('exit', (code) => reject(new Error(`bare sender exited (${code})`)));
  });
  return { url, pid: child.pid!, stop: () => stopChild(child) };
}

async function startOurs(media: BenchMedia, listeners: number): Promise<Target> {
  const server = await startServer({
    env: {
      AUDIO_DIR: media.dir,
      PACE_CHUNKS_PER_SECOND: String(PACE_CHUNKS_PER_SECOND),
      BURST_BYTES: '0',
      BURST_MS: '0',
      MAX_PEERS: String(listeners + 50),
      RATE_LIMIT_PER_IP: '0',
    },
  });
  return { url: server.url, pid: server.child.pid!, stop: () => server.stop() };
}

/**
 * The server's stats once its memory stopped growing. "Listening" comes before the server is done
 * starting (ours still loads its peer process then): a snapshot taken too early makes the idle
 * base too small and every listener look dearer (seen: 249 vs 330 MiB idle for the same server).
 */
async function settledStats(pid: number, timeoutMs = 15_000): Promise<ProcessStats> {
  const deadline = performance.now() + timeoutMs;
  let last = processStats(pid);
  for (;;) {
    await sleep(1000);
    const now = processStats(pid);
    if (Math.abs(now.rssKb - last.rssKb) < 1024 || performance.now() > deadline) return now;
    last = now;
  }
}

function stopChild(child: ChildProcess, timeoutMs = 10000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

interface ListenerGroup {
  children: ChildProcess[];
  connected: number;
  failed: number;
  closed: number;
  errors: string[];
  setupMs: number[];
  bytes: Map<ChildProcess, number>;
  settled: Promise<void>;
}

function spawnListeners(target: Target, src: string, total: number, lifetimeMs: number): ListenerGroup {
  const group: ListenerGroup = { children: [], connected: 0, failed: 0, closed: 0, errors: [], setupMs: [], bytes: new Map(), settled: Promise.resolve() };
  const processes = Math.ceil(total / PEERS_PER_PROCESS);
  const done: Promise<void>[] = [];
  for (let i = 0; i < processes; i++) {
    const count = Math.floor(total / processes) + (i < total % processes ? 1 : 0);
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(projectRoot, 'server/bench/load/listener-process.ts')], {
      cwd: projectRoot,
      env: { ...process.env, SERVER: target.url, SRC: src, LISTENERS: String(count), CONCURRENCY: '8', LIFETIME_MS: String(lifetimeMs) },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    group.children.push(child);
    done.push(
      new Promise<void>((resolve) => {
        createInterface({ input: child.stdout! }).on('line', (line) => {
          let message: { type: string; setupMs?: number; error?: string; total?: number };
          try {
            message = JSON.parse(line) as typeof message;
          } catch {
            return;
          }
          if (message.type === 'connected') {
            group.connected++;
            group.setupMs.push(message.setupMs!);
          } else if (message.type === 'failed') {
            group.failed++;
            if (group.errors.length < 5) group.errors.push(message.error!);
          } else if (message.type === 'closed') group.closed++;
          else if (message.type === 'bytes') group.bytes.set(child, message.total!);
          else if (message.type === 'ready') resolve();
        });
        child.once('exit', () => resolve());
      }),
    );
  }
  group.settled = Promise.all(done).then(() => undefined);
  return group;
}

const sumBytes = (group: ListenerGroup) => [...group.bytes.values()].reduce((a, b) => a + b, 0);

async function measure(kind: 'ours' | 'bare', listeners: number, options: LoadOptions): Promise<LoadSample> {
  const target = kind === 'ours' ? await startOurs(options.media, listeners) : await startBare();
  let group: ListenerGroup | undefined;
  try {
    const idle = await settledStats(target.pid);
    const lifetimeMs = CONNECT_DEADLINE_MS + options.windowSeconds * 1000 + 30_000;
    options.log(`load ${kind} ${listeners}: connecting listeners`);
    group = spawnListeners(target, options.media.fiveMinutes, listeners, lifetimeMs);
    const deadline = sleep(CONNECT_DEADLINE_MS).then(() => 'deadline');
    if ((await Promise.race([group.settled.then(() => 'ready'), deadline])) === 'deadline') options.log(`load ${kind} ${listeners}: connect deadline reached`);
    if (group.connected === 0) throw new Error(`no listener connected (${group.errors.join('; ')})`);
    await sleep(2000); // settle into the paced steady state
    const cpu0 = treeCpuMs(target.pid);
    const bytes0 = sumBytes(group);
    const t0 = performance.now();
    await sleep(options.windowSeconds * 1000);
    const seconds = (performance.now() - t0) / 1000;
    const cpuPercent = ((treeCpuMs(target.pid) - cpu0) / 1000 / seconds) * 100;
    const deliveredBytesPerSecond = (sumBytes(group) - bytes0) / seconds;
    const loaded = processStats(target.pid);
    const streaming = group.connected - group.closed;
    if (streaming <= 0) throw new Error(`every listener was dropped (${group.closed} closed)`);
    options.log(`load ${kind} ${listeners}: ${group.connected} connected, ${group.closed} dropped, server ${cpuPercent.toFixed(1)} % CPU, RSS ${(loaded.rssKb / 1024).toFixed(0)} MiB`);
    return {
      kind,
      listeners,
      connected: group.connected,
      failed: group.failed,
      streaming,
      firstErrors: group.errors,
      setupMs: group.setupMs,
      idle,
      loaded,
      cpuPercent,
      deliveredBytesPerSecond,
      windowSeconds: seconds,
    };
  } finally {
    if (group) await Promise.all(group.children.map((child) => stopChild(child)));
    await target.stop();
  }
}

export async function runLoadSection(options: LoadOptions): Promise<LoadResult> {
  const samples: LoadSample[] = [];
  for (const listeners of options.listeners) {
    for (const kind of ['ours', 'bare'] as const) {
      const sample = await options.attempt('load', `${kind} ${listeners} listeners`, () => measure(kind, listeners, options));
      if (sample) samples.push(sample);
    }
  }
  const perListener = (sample: LoadSample) => ({
    cpu: sample.cpuPercent / sample.streaming,
    rssMb: (sample.loaded.rssKb - sample.idle.rssKb) / 1024 / sample.streaming,
    // When the machine saturates, listeners receive less than the pace: CPU per MB delivered
    // compares the two servers fairly where CPU per listener cannot.
    cpuMsPerMb: (sample.cpuPercent * 10) / (sample.deliveredBytesPerSecond / 1e6),
  });
  const rows = samples.map((sample) => {
    const bare = samples.find((other) => other.kind === 'bare' && other.listeners === sample.listeners);
    const ours = perListener(sample);
    const base = bare ? perListener(bare) : undefined;
    return [
      sample.kind === 'ours' ? 'ours (server/main.ts)' : 'bare wrtc senders',
      `${sample.connected}/${sample.listeners}${sample.streaming < sample.connected ? `, ${sample.connected - sample.streaming} dropped` : ''}`,
      formatSummary(summarize(sample.setupMs), 0),
      formatNumber(sample.cpuPercent),
      formatNumber(ours.cpu, 3),
      `${formatNumber(sample.loaded.rssKb / 1024)} (idle ${formatNumber(sample.idle.rssKb / 1024)})`,
      formatNumber(ours.rssMb, 2),
      `${sample.loaded.threads} / ${sample.loaded.fds}`,
      `${formatNumber(sample.deliveredBytesPerSecond / sample.streaming / 1024)} of ${BYTES_PER_SECOND / 1024}`,
      formatNumber(ours.cpuMsPerMb),
      sample.kind === 'ours' && base
        ? `CPU/listener ${formatNumber(ours.cpu / base.cpu, 2)}×, CPU/MB ${formatNumber(ours.cpuMsPerMb / base.cpuMsPerMb, 2)}×, RSS/listener ${formatNumber(ours.rssMb / base.rssMb, 2)}×`
        : '',
    ];
  });
  let markdown = `### Server cost per listener — paced at ${BYTES_PER_SECOND / 1024} KiB/s each (${PACE_CHUNKS_PER_SECOND} chunk/s, no burst), ${options.listeners.join(' and ')} listeners, ${options.windowSeconds} s window\n\n`;
  markdown += markdownTable(
    ['server', 'connected', 'set-up ms p50 (p95)', 'CPU % of a core', 'CPU %/listener', 'RSS MiB', 'RSS MiB/listener', 'threads / fds', 'KiB/s delivered per listener', 'server CPU ms per MB delivered', 'ours/bare'],
    rows,
  );
  markdown +=
    '\n\nListeners: @roamhq/wrtc peers in child processes of ≤ 250 each (fd limit). CPU from /proc over the window, server process tree (HTTP + peer process); per listener = over the listeners still streaming at the end of the window; RSS per listener = (loaded − idle) / streaming. Where listeners get less than the pace, the machine (2 cores, clients included) is saturated: compare CPU per MB delivered. Bare = `server/bench/load/bare-sender.ts`: the same signaling and byte rate, nothing else.\n';
  return { markdown, raw: samples };
}
