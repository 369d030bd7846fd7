/**
 * `npm run bench` — this player beside the browser's own `<audio>`, in one run, on this machine.
 *
 *   npm run bench                                   # every section, defaults (a few minutes)
 *   npm run bench -- --only startup,throughput --runs 5
 *   npm run bench -- --only load --listeners 100    # sections: startup throughput decode memory load
 *   npm run bench -- --json /tmp/bench.json         # default: bench-results.json (gitignored)
 *
 * Runs inside a loopback-only network namespace (the npm script does that). Starts the real server
 * (server/main.ts) on a cached bench library, drives headless Chromium with a fresh page per run,
 * interleaving ours and native, and prints a Markdown table; the JSON file holds machine info,
 * versions and every raw sample. Asserts nothing about speed: it exits non-zero only when a
 * measurement could not be taken.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser } from 'puppeteer-core';
import { projectRoot, startServer, type ServerProcess } from './server-process.js';
import { buildBenchPage } from './build-page.js';
import { launchChromium, openRunPage, rendererRssKb, treeCpuByKindMs, treeCpuMs } from './browser.js';
import { runLoadSection, type LoadResult } from './load/load-bench.js';
import { prepareMedia, DECODE_SECONDS, type BenchMedia } from './media.js';
import { formatNumber, formatSummary, markdownTable, ratio, summarize } from './stats.js';
import { bytesBefore, startTimingProxy } from './timing-proxy.js';
import { parseArgs, USAGE, UsageError, type Section } from './cli.js';

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

interface Failure {
  section: string;
  what: string;
  error: string;
}
const failures: Failure[] = [];

/** Runs one measurement; a failure is recorded (the run fails at the end) and yields undefined. */
async function attempt<T>(section: string, what: string, measure: () => Promise<T>): Promise<T | undefined> {
  try {
    return await measure();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    failures.push({ section, what, error: message });
    log(`FAILED ${section} / ${what}: ${message}`);
    return undefined;
  }
}

/**
 * The real server, watched: if it exits during a section, that is recorded as a failure with the
 * tail of its stderr (a crash must not hide behind "page did not load").
 */
type WatchedServer = ServerProcess & { readonly alive: boolean };

async function startWatchedServer(section: string, env: Record<string, string>): Promise<WatchedServer> {
  const server = await startServer({ env: { STATIC_DIR: page.staticDir, RATE_LIMIT_PER_IP: '0', ...env } });
  const tail: string[] = [];
  server.child.stderr?.on('data', (data: Buffer) => {
    tail.push(...data.toString().split('\n').filter(Boolean));
    tail.splice(0, Math.max(0, tail.length - 20));
  });
  let stopping = false;
  server.child.once('exit', (code, signal) => {
    if (!stopping) {
      const error = `server exited (${code ?? signal}) during the section; last stderr lines:\n${tail.join('\n')}`;
      failures.push({ section, what: 'server process', error });
      log(`FAILED ${section}: ${error}`);
    }
  });
  const stop = server.stop;
  return {
    ...server,
    get alive() {
      return server.child.exitCode === null && server.child.signalCode === null;
    },
    stop: (signal?: NodeJS.Signals) => {
      stopping = true;
      return stop(signal);
    },
  };
}

/**
 * The server parses every track's duration when it starts (seconds of CPU on the bench library):
 * let that finish (GET /api/tracks waits for it) so that no measured run shares the CPU with it.
 */
async function settleServer(server: ServerProcess): Promise<void> {
  await fetch(`${server.url}/api/tracks`).then((response) => response.arrayBuffer());
  await sleep(1000);
}

// ---------------------------------------------------------------------------------------------
// Start-up: first chunk, first audible (cold, small buffer, preload=metadata, warm), set-up breakdown

interface StartCase {
  id: string;
  label: string;
  player: 'ours' | 'native';
  preload: 'none' | 'metadata' | 'auto';
  bufferSeconds?: number;
  /** The element's `server` is another origin (a second proxy port): its offer is a CORS request. */
  crossOrigin?: boolean;
}

const SMALL_BUFFER_SECONDS = 0.5;
const MAX_SERVER_RESTARTS = 3;
const START_CASES: StartCase[] = [
  { id: 'native-cold', label: 'native `<audio preload=none>`', player: 'native', preload: 'none' },
  { id: 'ours-cold', label: 'ours preload=none, buffer-seconds default (10)', player: 'ours', preload: 'none' },
  { id: 'ours-cold-small', label: `ours preload=none, buffer-seconds=${SMALL_BUFFER_SECONDS}`, player: 'ours', preload: 'none', bufferSeconds: SMALL_BUFFER_SECONDS },
  { id: 'ours-cold-xorigin', label: 'ours preload=none, `server` on another origin (CORS, first play of the page)', player: 'ours', preload: 'none', crossOrigin: true },
  { id: 'native-metadata', label: 'native `<audio preload=metadata>` after loadedmetadata', player: 'native', preload: 'metadata' },
  { id: 'ours-metadata', label: 'ours preload=metadata (default attributes)', player: 'ours', preload: 'metadata' },
  { id: 'native-warm', label: 'native `<audio preload=auto>` after canplaythrough', player: 'native', preload: 'auto' },
  { id: 'ours-warm', label: 'ours preload=auto after `ready`', player: 'ours', preload: 'auto' },
];

interface StartSample {
  audibleMs: number;
  playingMs: number;
  firstChunkMs: number;
  /** Audio bytes in the page before play() (native: sent by the proxy; ours: the element's stats). */
  bytesBeforePlay: number;
  timing: Record<string, number>;
}

async function startupSection(browser: Browser, media: BenchMedia, runs: number): Promise<{ markdown: string; raw: unknown }> {
  const env = { AUDIO_DIR: media.dir };
  let server = await startWatchedServer('startup', env);
  await settleServer(server);
  // The same server through another port: another origin for the page, as a signaling server on its own host is.
  const crossProxy = await startTimingProxy(server.url);
  const proxy = await startTimingProxy(server.url, [crossProxy.url]);
  let restarts = 0;
  const samples = new Map<string, StartSample[]>(START_CASES.map((c) => [c.id, []]));
  const recipes: Record<'gatherComplete' | 'immediate', { offerPostedMs: number; firstChunkMs: number }[]> = { gatherComplete: [], immediate: [] };
  try {
    for (let run = 0; run < runs; run++) {
      // A crashed server is a recorded failure; the section goes on with a fresh one (bounded).
      if (!server.alive) {
        if (++restarts > MAX_SERVER_RESTARTS) break;
        log(`startup: restarting the crashed server (${restarts}/${MAX_SERVER_RESTARTS})`);
        server = await startWatchedServer('startup', env);
        await settleServer(server);
        proxy.setUpstream(server.url);
        crossProxy.setUpstream(server.url);
      }
      log(`startup run ${run + 1}/${runs}`);
      for (const recipe of ['gatherComplete', 'immediate'] as const) {
        const sample = await attempt('startup', `recipe ${recipe} run ${run + 1}`, async () => {
          const runPage = await openRunPage(browser, proxy.url + page.pagePath);
          try {
            return await runPage.call('setupRecipe', { src: media.demo, waitForGathering: recipe === 'gatherComplete' });
          } finally {
            await runPage.close();
          }
        });
        if (sample) recipes[recipe].push(sample);
      }
      for (const startCase of START_CASES) {
        const sample = await attempt('startup', `${startCase.id} run ${run + 1}`, async () => {
          const pageOpenedEpochMs = performance.timeOrigin + performance.now();
          const runPage = await openRunPage(browser, proxy.url + page.pagePath);
          try {
            if (startCase.player === 'native') {
              const result = await runPage.call('nativeStart', { src: media.demo, preload: startCase.preload });
              const pageMedia = proxy.media.filter((entry) => entry.requestEpochMs >= pageOpenedEpochMs);
              const bytesBeforePlay = pageMedia.reduce((sum, entry) => sum + bytesBefore(entry, result.playEpochMs), 0);
              // First byte in the page after play(): of the first /media/ response the proxy sent
              // after play(), or, when bytes were fetched before (metadata, auto), of those: 0.
              const response = pageMedia.find((entry) => entry.requestEpochMs >= result.playEpochMs - 1 && entry.firstByteEpochMs !== undefined);
              const firstChunkMs = bytesBeforePlay > 0 ? 0 : response ? response.firstByteEpochMs! - result.playEpochMs : Number.NaN;
              if (!Number.isFinite(firstChunkMs)) throw new Error('the proxy saw no /media/ response after play()');
              return { audibleMs: result.audibleMs, playingMs: result.playingMs, firstChunkMs, bytesBeforePlay, timing: {} };
            }
            const result = await runPage.call('oursStart', {
              src: media.demo,
              preload: startCase.preload,
              ...(startCase.bufferSeconds !== undefined ? { bufferSeconds: startCase.bufferSeconds } : {}),
              ...(startCase.crossOrigin ? { server: crossProxy.url } : {}),
            });
            // The offer as the proxy saw it, in ms from play() (the page's marks are from its playRequested, ~the same instant).
            const offer = (startCase.crossOrigin ? crossProxy : proxy).offers.find((entry) => entry.requestEpochMs >= result.playEpochMs - 1);
            if (offer) {
              const marks = { request: offer.requestEpochMs, requestEnd: offer.requestEndEpochMs, response: offer.responseEpochMs, responseEnd: offer.responseEndEpochMs };
              for (const [name, epoch] of Object.entries(marks)) if (epoch !== undefined) result.timing[`proxy.${name}`] = epoch - result.playEpochMs;
            }
            // Bytes already in the page at play() (auto, metadata's preview): 0, as for native.
            const firstChunkMs = (result.bytesBeforePlay ?? 0) > 0 ? 0 : (result.timing.firstChunk ?? Number.NaN);
            return { audibleMs: result.audibleMs, playingMs: result.playingMs, firstChunkMs, bytesBeforePlay: result.bytesBeforePlay ?? 0, timing: result.timing };
          } finally {
            await runPage.close();
          }
        });
        if (sample) samples.get(startCase.id)!.push(sample);
      }
    }
  } finally {
    await proxy.close();
    await crossProxy.close();
    await server.stop();
  }

  const summaryOf = (id: string, pick: (s: StartSample) => number) => summarize(samples.get(id)!.map(pick));
  const nativeOf = (c: StartCase) => (c.preload === 'auto' ? 'native-warm' : 'native-cold');
  const rows = START_CASES.map((c) => {
    const audible = summaryOf(c.id, (s) => s.audibleMs);
    const firstChunk = summaryOf(c.id, (s) => s.firstChunkMs);
    const bytesBeforePlay = summaryOf(c.id, (s) => s.bytesBeforePlay);
    return [
      c.label,
      String(audible.n),
      Number.isFinite(bytesBeforePlay.median) ? `${Math.round(bytesBeforePlay.median / 1024)} KiB` : '–',
      c.preload === 'auto' ? '(preloaded)' : formatSummary(firstChunk),
      formatSummary(summaryOf(c.id, (s) => s.playingMs)),
      formatSummary(audible),
      c.id === nativeOf(c) ? '1.00×' : ratio(audible, summaryOf(nativeOf(c), (s) => s.audibleMs)),
    ];
  });
  let markdown = `### Start-up, ms after \`play()\` — median (p95), ${runs} runs each, interleaved, fresh page per run\n\n`;
  markdown += markdownTable(['case', 'n', 'audio bytes before play()³', 'first audio byte in page¹', '`playing` event', 'first audible sample²', 'audible ours/native'], rows);
  markdown +=
    '\n\n¹ ours: the element\'s `timing.firstChunk`; native: the first body byte of the `/media/` response, timestamped by a pass-through proxy (the page has no event for it).\n' +
    '² first |x| > 1e-3 reaching the output device (output tap on everything connected to the AudioContext destination, `getOutputTimestamp()`); native is routed through `createMediaElementSource`. The AudioContext is created and running before `play()` for both.\n' +
    '³ median; native: `/media/` body bytes the proxy sent to the page before play(); ours: the element\'s `stats.bytesReceived` at play(). Rows with bytes before play() show 0 in column ¹ for native.\n';

  // Where our set-up time goes: step durations from the element's `timing` marks (+ the server's
  // Server-Timing for its answer and gathering wait, + the tap's first audible sample).
  const ourCases = START_CASES.filter((startCase) => startCase.player === 'ours');
  const step = (t: Record<string, number>, to: string, from: string) => (t[to] !== undefined && t[from] !== undefined ? t[to]! - t[from]! : Number.NaN);
  const STEPS: [string, (t: Record<string, number>) => number][] = [
    ['play() → peer created (cold) or pre-connection start', (t) => step(t, 'peerCreated', 'playRequested')],
    ['create offer (peerCreated → offerCreated)', (t) => step(t, 'offerCreated', 'peerCreated')],
    ['offer created → POST sent (the local description is set once the answer is in)', (t) => step(t, 'offerSent', 'offerCreated')],
    ['HTTP round trip, excluding the server', (t) => step(t, 'answerReceived', 'offerSent') - (t['server.answer'] ?? Number.NaN)],
    ['  of which: POST sent → request on the wire (Resource Timing `requestStart`)', (t) => step(t, 'http.requestStart', 'offerSent')],
    ['  of which: response start → answer parsed (`responseStart` → answerReceived)', (t) => step(t, 'answerReceived', 'http.responseStart')],
    ['  of which: the bench proxy had the request → had sent the answer', (t) => step(t, 'proxy.responseEnd', 'proxy.request')],
    ['server: read + parse the request body (Server-Timing `body`)', (t) => t['server.body'] ?? Number.NaN],
    ['server: answer (Server-Timing `answer`)', (t) => t['server.answer'] ?? Number.NaN],
    ['  of which the peer process round trip (`peer`)', (t) => t['server.peer'] ?? Number.NaN],
    ['    of which wrtc negotiation in it (`negotiate`)', (t) => t['server.negotiate'] ?? Number.NaN],
    ['      of which ICE gathering wait (`gather`)', (t) => t['server.gather'] ?? Number.NaN],
    ['set local + remote description (answerReceived → remoteDescriptionSet)', (t) => step(t, 'remoteDescriptionSet', 'answerReceived')],
    ['ICE connectivity (→ iceConnected)', (t) => step(t, 'iceConnected', 'remoteDescriptionSet')],
    ['DTLS + SCTP (iceConnected → channelOpen)', (t) => step(t, 'channelOpen', 'iceConnected')],
    ['metadata message', (t) => step(t, 'metadata', 'channelOpen')],
    ['first chunk (after metadata; preview: its first chunk after metadata)', (t) => step(t, 'firstChunk', 'metadata')],
    ['`start` (held back until the engine plays) → first chunk after the preview (`streamChunk`)', (t) => step(t, 'streamChunk', 'startSent')],
    ['first decoded block', (t) => step(t, 'firstDecoded', 'firstChunk')],
    ['→ playing (start rule, engine start)', (t) => step(t, 'playing', t.firstDecoded !== undefined && t.firstDecoded > 0 ? 'firstDecoded' : 'playRequested')],
    ['→ first audible at the output (tap)', (t) => step(t, 'audible', 'playing')],
    ['**play() → first audible**', (t) => t.audible ?? Number.NaN],
  ];
  markdown += `\n### Where our set-up time goes — median ms per step, from the element's public \`timing\`\n\n`;
  markdown += markdownTable(
    ['step', ...ourCases.map((c) => c.id)],
    STEPS.map(([label, pick]) => [label, ...ourCases.map((c) => formatNumber(summaryOf(c.id, (s) => pick(s.timing)).median))]),
  );
  markdown += '\n\nWith preload=metadata/auto the steps up to the metadata (and for auto the first chunk and decode) happen before play(). Medians of steps need not add up to the median total. Raw marks (ms from `playRequested`) are in the JSON.\n';
  markdown += `\n### Signaling recipe, bare RTCPeerConnection — median (p95) ms from \`new RTCPeerConnection\`\n\n`;
  markdown += markdownTable(
    ['recipe', 'n', 'offer posted', 'first chunk'],
    ([
      ['before: client waits for ICE gathering "complete", then posts', recipes.gatherComplete],
      ['after: offer posted right after setLocalDescription (no gathering wait)', recipes.immediate],
    ] as const).map(([label, list]) => [
      label,
      String(list.length),
      formatSummary(summarize(list.map((s) => s.offerPostedMs))),
      formatSummary(summarize(list.map((s) => s.firstChunkMs))),
    ]),
  );
  markdown += '\n\nThe server answers at its first ICE candidate in both rows (its half of the fix).\n';
  return { markdown, raw: { cases: Object.fromEntries(samples), recipes } };
}

// ---------------------------------------------------------------------------------------------
// Throughput: 16 MiB unpaced over the DataChannel vs HTTP fetch

/** This network namespace's UDP counters (/proc/net/snmp): datagrams in, and those dropped for a full receive buffer. */
function udpCounters(): { InDatagrams: number; RcvbufErrors: number } {
  const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((line) => line.startsWith('Udp:'));
  const [names, values] = lines.map((line) => line.split(/\s+/).slice(1));
  const get = (name: string) => Number(values?.[names?.indexOf(name) ?? -1] ?? Number.NaN);
  return { InDatagrams: get('InDatagrams'), RcvbufErrors: get('RcvbufErrors') };
}

async function throughputSection(browser: Browser, media: BenchMedia, runs: number): Promise<{ markdown: string; raw: unknown }> {
  const server = await startWatchedServer('throughput', { AUDIO_DIR: media.dir, PACE_CHUNKS_PER_SECOND: '0' });
  await settleServer(server);
  const raw: Record<'rtc' | 'http', { bytes: number; setupMs: number; streamMs: number; browserCpuMs: number; serverCpuMs: number; udpDatagrams: number; udpDrops: number; browserCpuByKindMs: Record<string, number> }[]> = { rtc: [], http: [] };
  const serverPid = server.child.pid!;
  const browserPid = browser.process()!.pid!;
  try {
    for (let run = 0; run < runs && server.alive; run++) {
      log(`throughput run ${run + 1}/${runs}`);
      for (const kind of ['rtc', 'http'] as const) {
        const sample = await attempt('throughput', `${kind} run ${run + 1}`, async () => {
          const runPage = await openRunPage(browser, server.url + page.pagePath);
          try {
            const cpu0 = treeCpuMs(browserPid);
            const server0 = treeCpuMs(serverPid);
            const udp0 = udpCounters();
            const kinds0 = treeCpuByKindMs(browserPid);
            const result = await runPage.call(kind === 'rtc' ? 'throughputRtc' : 'throughputHttp', { src: media.sixteenMiB });
            const udp1 = udpCounters();
            const kinds1 = treeCpuByKindMs(browserPid);
            const browserCpuByKindMs = Object.fromEntries(Object.entries(kinds1).map(([kind, ms]) => [kind, ms - (kinds0[kind] ?? 0)]));
            const sample = {
              ...result,
              browserCpuMs: treeCpuMs(browserPid) - cpu0,
              serverCpuMs: treeCpuMs(serverPid) - server0,
              udpDatagrams: udp1.InDatagrams - udp0.InDatagrams,
              udpDrops: udp1.RcvbufErrors - udp0.RcvbufErrors,
              browserCpuByKindMs,
            };
            if (result.bytes !== 16 * 1024 * 1024) throw new Error(`received ${result.bytes} bytes, expected 16 MiB`);
            return sample;
          } finally {
            await runPage.close();
          }
        });
        if (sample) raw[kind].push(sample);
      }
    }
  } finally {
    await server.stop();
  }
  const mbps = (s: { bytes: number; streamMs: number }) => s.bytes / 1e6 / (s.streamMs / 1000);
  const perMb = (s: { bytes: number }, cpu: number) => cpu / (s.bytes / 1e6);
  const rows = (['rtc', 'http'] as const).map((kind) => [
    kind === 'rtc' ? 'DataChannel (StreamConnection, server unpaced)' : 'HTTP `fetch()` of `/media/`',
    String(raw[kind].length),
    formatSummary(summarize(raw[kind].map(mbps))),
    formatSummary(summarize(raw[kind].map((s) => s.setupMs))),
    formatSummary(summarize(raw[kind].map((s) => perMb(s, s.browserCpuMs)))),
    formatSummary(summarize(raw[kind].map((s) => perMb(s, s.serverCpuMs)))),
    formatSummary(summarize(raw[kind].map((s) => s.udpDrops))),
  ]);
  const ratioRow = ratio(summarize(raw.rtc.map(mbps)), summarize(raw.http.map(mbps)));
  let markdown = `### Throughput, 16 MiB — median (p95), ${runs} runs each\n\n`;
  markdown += markdownTable(['path', 'n', 'MB/s (first byte → last)', 'request → first byte, ms', 'browser CPU ms/MB', 'server CPU ms/MB', 'UDP datagrams dropped (receive buffer full)'], rows);
  // Where the browser's CPU went, per MB, by Chromium process kind (median over runs).
  for (const kind of ['rtc', 'http'] as const) {
    const kinds = [...new Set(raw[kind].flatMap((s) => Object.keys(s.browserCpuByKindMs)))].sort();
    const parts = kinds
      .map((name) => [name, summarize(raw[kind].map((s) => perMb(s, s.browserCpuByKindMs[name] ?? 0))).median] as const)
      .filter(([, ms]) => ms >= 0.5)
      .map(([name, ms]) => `${name} ${formatNumber(ms)}`);
    if (parts.length > 0) markdown += `\n\n${kind === 'rtc' ? 'DataChannel' : 'HTTP'}: browser CPU ms/MB by process: ${parts.join(', ')}.`;
  }
  markdown += `\n\nDataChannel/HTTP throughput: ${ratioRow}. CPU from /proc (10 ms ticks), all Chromium processes / the server process.\n`;
  return { markdown, raw };
}

// ---------------------------------------------------------------------------------------------
// Decode CPU per minute of audio, per format: our streaming decoder vs one-shot decodeAudioData

async function decodeSection(browser: Browser, media: BenchMedia, runs: number, formats: readonly string[]): Promise<{ markdown: string; raw: unknown }> {
  const server = await startWatchedServer('decode', { AUDIO_DIR: media.dir });
  const browserPid = browser.process()!.pid!;
  const raw: Record<string, Record<'ours' | 'native', { cpuMs: number; wallMs: number; seconds: number; firstPcmMs: number; maxHeldBytes: number }[]>> = {};
  try {
    const chosen = media.decode.filter((entry) => formats.length === 0 || formats.some((name) => entry.format.toLowerCase().includes(name)));
    if (chosen.length === 0) throw new Error(`--formats ${formats.join(',')} matches none of: ${media.decode.map((entry) => entry.format).join(', ')}`);
    for (const entry of chosen) {
      raw[entry.format] = { ours: [], native: [] };
      for (let run = 0; run < runs && server.alive; run++) {
        for (const mode of ['ours', 'native'] as const) {
          const sample = await attempt('decode', `${entry.format} ${mode} run ${run + 1}`, async () => {
            const runPage = await openRunPage(browser, server.url + page.pagePath);
            try {
              await runPage.call('loadForDecode', { src: entry.src });
              // Let the page load's own work finish first: with 200 ms, a decode call that only
              // sleeps 100 ms still measured ~135 ms of CPU (2 ms after 1.5 s), added to both sides.
              await new Promise((resolve) => setTimeout(resolve, 1500));
              const cpu0 = treeCpuMs(browserPid);
              const result = await runPage.call('decode', { mode, mimeType: entry.mimeType });
              const cpuMs = treeCpuMs(browserPid) - cpu0;
              if (!(result.seconds > DECODE_SECONDS - 2)) throw new Error(`decoded ${result.seconds} s of a ${DECODE_SECONDS} s file`);
              return { cpuMs, wallMs: result.wallMs, seconds: result.seconds, firstPcmMs: result.firstPcmMs ?? Number.NaN, maxHeldBytes: result.maxHeldBytes ?? Number.NaN };
            } finally {
              await runPage.close();
            }
          });
          if (sample) raw[entry.format]![mode].push(sample);
        }
      }
      log(`decode ${entry.format} done`);
    }
  } finally {
    await server.stop();
  }
  const perMinute = (s: { cpuMs: number; seconds: number }) => s.cpuMs / (s.seconds / 60);
  const wallPerMinute = (s: { wallMs: number; seconds: number }) => s.wallMs / (s.seconds / 60);
  const rows = Object.entries(raw).map(([format, modes]) => {
    const ours = summarize(modes.ours.map(perMinute));
    const native = summarize(modes.native.map(perMinute));
    return [
      format,
      formatSummary(ours),
      formatSummary(summarize(modes.ours.map(wallPerMinute))),
      formatSummary(native),
      formatSummary(summarize(modes.native.map(wallPerMinute))),
      ratio(ours, native),
      formatSummary(summarize(modes.ours.map((s) => s.firstPcmMs))),
      formatSummary(summarize(modes.ours.map((s) => s.maxHeldBytes / 1024)), 0),
    ];
  });
  let markdown = `### Decode cost per minute of audio (${DECODE_SECONDS} s files) — median (p95), ${runs} runs\n\n`;
  markdown += markdownTable(['format', 'ours CPU ms/min', 'ours wall ms/min', '`decodeAudioData` CPU ms/min', '`decodeAudioData` wall ms/min', 'CPU ours/native', 'ours: first PCM ms', 'ours: max held KiB'], rows);
  markdown += `\n\nCPU = all Chromium processes (/proc, 10 ms ticks) around the decode call; the file is fetched before. Ours: \`measureStreamingDecode\` (components/decoder/decode-bench.ts: StreamDecoder fed 64 KiB pushes, yielding between them, no horizon); native: its \`measureOneShotDecode\` (\`decodeAudioData\` of the whole file).\n`;
  return { markdown, raw };
}

// ---------------------------------------------------------------------------------------------
// Memory: page JS heap, the audio our player holds, and renderer RSS after playing a 5-minute and
// a 60-minute track; ours with and without receive-side flow control, and native <audio>

const MEMORY_PLAYERS = ['ours', 'ours-unbounded', 'native'] as const;
const MEMORY_LABELS: Record<(typeof MEMORY_PLAYERS)[number], string> = {
  ours: 'ours',
  'ours-unbounded': 'ours, flow control off (before)',
  native: 'native',
};

async function memorySection(browser: Browser, media: BenchMedia, runs: number, seconds: number): Promise<{ markdown: string; raw: unknown }> {
  const server = await startWatchedServer('memory', { AUDIO_DIR: media.dir });
  const browserPid = browser.process()!.pid!;
  const tracks = [
    { label: '5 min', src: media.fiveMinutes },
    { label: '60 min', src: media.sixtyMinutes },
  ];
  type MemorySample = {
    heapMb: number;
    peakHeapMb: number;
    rendererRssMb: number;
    peakRendererRssMb: number;
    position: number;
    /** Ours only: peak of compressed + PCM held (MiB), its parts' peaks, at the end, and bytes received. */
    peakHeldMb?: number;
    peakCompressedMb?: number;
    peakPcmMb?: number;
    heldMb?: number;
    receivedMb?: number;
  };
  const raw: Record<string, MemorySample[]> = {};
  const mib = (bytes: number) => bytes / 1048576;
  try {
    for (let run = 0; run < runs && server.alive; run++) {
      for (const track of tracks) {
        for (const player of MEMORY_PLAYERS) {
          const key = `${MEMORY_LABELS[player]} ${track.label}`;
          raw[key] ??= [];
          log(`memory ${key} run ${run + 1}/${runs} (${seconds} s of playback)`);
          const sample = await attempt('memory', `${key} run ${run + 1}`, async () => {
            const runPage = await openRunPage(browser, server.url + page.pagePath);
            try {
              // Peak: sampled every 500 ms while it plays (no GC forced); final: after a forced GC.
              let peakHeap = 0;
              let peakRss = 0;
              let playing = true;
              const sampler = (async () => {
                while (playing) {
                  const metrics = await runPage.page.metrics().catch(() => undefined);
                  peakHeap = Math.max(peakHeap, metrics?.JSHeapUsedSize ?? 0);
                  peakRss = Math.max(peakRss, ...rendererRssKb(browserPid));
                  await new Promise((resolve) => setTimeout(resolve, 500));
                }
              })();
              const { position, held } = await runPage.call('playFor', { player, src: track.src, seconds }).finally(() => (playing = false));
              await sampler;
              const session = await runPage.page.createCDPSession();
              await session.send('HeapProfiler.collectGarbage');
              const metrics = await runPage.page.metrics();
              await session.detach();
              const result: MemorySample = {
                heapMb: (metrics.JSHeapUsedSize ?? Number.NaN) / 1048576,
                peakHeapMb: peakHeap / 1048576,
                rendererRssMb: Math.max(...rendererRssKb(browserPid)) / 1024,
                peakRendererRssMb: peakRss / 1024,
                position,
              };
              if (held) {
                result.peakHeldMb = mib(held.peakHeldBytes);
                result.peakCompressedMb = mib(held.peakCompressedBytes);
                result.peakPcmMb = mib(held.peakPcmBytes);
                result.heldMb = mib(held.heldBytes);
                result.receivedMb = mib(held.bytesReceived);
              }
              return result;
            } finally {
              await runPage.close();
            }
          });
          if (sample) raw[key]!.push(sample);
        }
      }
    }
  } finally {
    await server.stop();
  }
  const column = (list: MemorySample[], pick: (s: MemorySample) => number | undefined) =>
    formatSummary(summarize(list.map((s) => pick(s) ?? Number.NaN)));
  const rows = Object.entries(raw).map(([key, list]) => [
    key,
    String(list.length),
    column(list, (s) => s.peakHeapMb),
    column(list, (s) => s.heapMb),
    column(list, (s) => s.peakHeldMb),
    column(list, (s) => s.peakCompressedMb),
    column(list, (s) => s.peakPcmMb),
    column(list, (s) => s.receivedMb),
    column(list, (s) => s.peakRendererRssMb),
    column(list, (s) => s.rendererRssMb),
    column(list, (s) => s.position),
  ]);
  // Issue 3's target: peak JS heap + held audio, 60 min over 5 min (median of the per-run sums).
  const heapPlusHeld = (key: string) => summarize((raw[key] ?? []).map((s) => s.peakHeapMb + (s.peakHeldMb ?? Number.NaN)));
  const ratioRows = (['ours', 'ours-unbounded'] as const).map((player) => {
    const five = heapPlusHeld(`${MEMORY_LABELS[player]} 5 min`);
    const sixty = heapPlusHeld(`${MEMORY_LABELS[player]} 60 min`);
    return [MEMORY_LABELS[player], formatSummary(five), formatSummary(sixty), ratio(sixty, five)];
  });
  let markdown = `### Memory after ${seconds} s of playback — median (p95), ${runs} run(s)\n\n`;
  markdown += markdownTable(
    [
      'player, track',
      'n',
      'peak JS heap MiB',
      'JS heap MiB after GC',
      'peak held audio MiB',
      'of which compressed',
      'of which PCM',
      'received MiB',
      'peak renderer RSS MiB',
      'renderer RSS MiB at end',
      'position s',
    ],
    rows,
  );
  markdown += '\n\n';
  markdown += markdownTable(['player', 'peak JS heap + held audio MiB, 5 min', '60 min', '60 min / 5 min'], ratioRows);
  markdown +=
    '\n\nJS heap from CDP `Performance.getMetrics` after `HeapProfiler.collectGarbage`. Held audio: the element\'s `memory` ' +
    '(compressed bytes received and not yet decoded + decoded PCM not yet played, most of it in the AudioWorklet, outside the JS heap), ' +
    'sampled every 250 ms; peaks of the parts need not be simultaneous. "Flow control off" is ours with an unbounded window ' +
    '(the server is never held): the player before receive-side flow control. Audio held by native `<audio>` is not ' +
    'observable; it shows only in the renderer RSS.\n';
  return { markdown, raw };
}

// ---------------------------------------------------------------------------------------------

function machineInfo() {
  const version = (command: string, args: string[]) => {
    try {
      return execFileSync(command, args, { encoding: 'utf8' }).split('\n')[0]!.trim();
    } catch {
      return 'unknown';
    }
  };
  const packageVersion = (name: string) => {
    try {
      return (JSON.parse(readFileSync(path.join(projectRoot, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      return 'missing';
    }
  };
  return {
    date: new Date().toISOString(),
    hostname: os.hostname(),
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    cpus: os.cpus().map((cpu) => cpu.model).filter((model, i, all) => all.indexOf(model) === i),
    cores: os.cpus().length,
    memoryGb: +(os.totalmem() / 1e9).toFixed(1),
    loadAverage: os.loadavg(),
    node: process.version,
    chromium: version(process.env.CHROME_PATH ?? '/usr/bin/chromium', ['--version']),
    packages: Object.fromEntries(['@roamhq/wrtc', 'koa', 'lit', 'codec-parser', 'vite', 'puppeteer-core'].map((name) => [name, packageVersion(name)])),
    commit: version('git', ['-C', projectRoot, 'rev-parse', '--short', 'HEAD']),
    // The shared working tree may hold uncommitted edits: say which files differed from the commit.
    uncommitted: (() => {
      try {
        return execFileSync('git', ['-C', projectRoot, 'status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).split('\n').filter(Boolean);
      } catch {
        return [];
      }
    })(),
  };
}

let page: Awaited<ReturnType<typeof buildBenchPage>>;

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2), process.cwd(), path.join(projectRoot, 'bench-results.json'));
  if (options.help) {
    console.log(USAGE);
    return;
  }
  if (process.env.RTC_IN_NETNS !== '1') log('warning: not inside the loopback-only namespace (use `npm run bench`)');
  const startedAt = Date.now();
  const media = await prepareMedia(projectRoot, log);
  const needsBrowser = [...options.only].some((section) => section !== 'load');
  const sections: { name: Section; markdown: string; raw: unknown }[] = [];
  let browser: Browser | undefined;
  try {
    if (needsBrowser) {
      log('building the bench page');
      page = await buildBenchPage(projectRoot);
      browser = await launchChromium();
    }
    const runs = options.runs;
    if (options.only.has('startup')) sections.push({ name: 'startup', ...(await startupSection(browser!, media, runs)) });
    if (options.only.has('throughput')) sections.push({ name: 'throughput', ...(await throughputSection(browser!, media, Math.min(runs, 5))) });
    if (options.only.has('decode')) sections.push({ name: 'decode', ...(await decodeSection(browser!, media, Math.min(runs, 5), options.formats)) });
    if (options.only.has('memory')) sections.push({ name: 'memory', ...(await memorySection(browser!, media, Math.min(runs, 3), options.memorySeconds)) });
  } finally {
    await browser?.close();
  }
  if (options.only.has('load')) {
    const load: LoadResult = await runLoadSection({ media, listeners: options.listeners, windowSeconds: options.loadWindowSeconds, log, attempt });
    sections.push({ name: 'load', markdown: load.markdown, raw: load.raw });
  }

  const machine = machineInfo();
  const header =
    `## rtc-audio-player benchmark — ${machine.date}\n\n` +
    `${machine.chromium}, Node ${machine.node}, ${machine.cores} cores (${machine.cpus.join(', ')}), ` +
    `@roamhq/wrtc ${machine.packages['@roamhq/wrtc']}, commit ${machine.commit}${machine.uncommitted.length ? ` (+${machine.uncommitted.length} uncommitted files)` : ''}; loopback-only network namespace. ` +
    `Command: \`npm run bench -- ${process.argv.slice(2).join(' ')}\`.\n`;
  const markdown = [header, ...sections.map((section) => section.markdown)].join('\n');
  console.log(markdown);
  writeFileSync(
    options.json,
    JSON.stringify({ machine, options: { ...options, only: [...options.only] }, elapsedSeconds: (Date.now() - startedAt) / 1000, failures, markdown, sections }, null, 2),
  );
  log(`raw samples: ${options.json} (${((Date.now() - startedAt) / 1000).toFixed(0)} s)`);
  if (failures.length) {
    log(`${failures.length} measurement(s) could not be taken:`);
    for (const failure of failures) log(`  ${failure.section} / ${failure.what}: ${failure.error}`);
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) {
    console.error(error.message);
    process.exit(2);
  }
  log(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
});
