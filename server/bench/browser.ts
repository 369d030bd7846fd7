/**
 * Headless Debian Chromium for the benchmark, driven by puppeteer-core: the same flags as the
 * browser tests, one fresh browser context (its own renderer) and page per measured run.
 */
import { readFileSync, readdirSync } from 'node:fs';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import type { BenchApi } from './page/bench-page.js';
import { AUTOPLAY_FLAG, CHROMIUM_PATH, CHROMIUM_FLAGS as SHARED_FLAGS } from '../testing/chromium.mjs';

export const CHROMIUM_FLAGS = [...SHARED_FLAGS, AUTOPLAY_FLAG];

export async function launchChromium(): Promise<Browser> {
  return puppeteer.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_FLAGS,
  });
}

const CALL_TIMEOUT_MS = 90_000;

export interface RunPage {
  page: Page;
  /** Calls `window.bench[name](arg)` in the page. */
  call<K extends keyof BenchApi>(name: K, ...args: Parameters<BenchApi[K]>): Promise<Awaited<ReturnType<BenchApi[K]>>>;
  close(): Promise<void>;
}

/** A fresh context + page on the bench page, `window.bench` ready (AudioContext running). */
export async function openRunPage(browser: Browser, url: string): Promise<RunPage> {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(String(error)));
  const response = await page.goto(url, { waitUntil: 'load' });
  if (!response?.ok()) throw new Error(`bench page: HTTP ${response?.status() ?? 'no response'} for ${url}`);
  await page.waitForFunction(() => 'bench' in window, { timeout: 15000 }).catch(() => {
    throw new Error(`bench page did not initialise: ${errors.join('; ') || 'no error reported'}`);
  });
  // Every measurement is bounded: a hung play() or stream fails this run, never the whole bench.
  const call = (async (name: string, ...args: unknown[]) => {
    let timer: NodeJS.Timeout | undefined;
    const evaluation = page.evaluate(
      (method, params) => (window as unknown as { bench: Record<string, (...a: unknown[]) => unknown> }).bench[method]!(...params),
      name,
      args,
    );
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`bench.${name}() gave no result within ${CALL_TIMEOUT_MS / 1000} s`)), CALL_TIMEOUT_MS);
    });
    try {
      return await Promise.race([evaluation, limit]);
    } finally {
      clearTimeout(timer);
    }
  }) as RunPage['call'];
  await call('ready');
  return { page, call, close: () => context.close() };
}

// ---------------------------------------------------------------------------------------------
// Process accounting (Linux /proc)

const CLOCK_TICK_MS = 10; // USER_HZ is 100 on Linux

interface ProcEntry {
  pid: number;
  ppid: number;
  cpuMs: number;
  rssKb: number;
}

function readProc(pid: number): ProcEntry | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm may contain spaces: fields after the closing parenthesis
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(fields[1]);
    const cpuMs = (Number(fields[11]) + Number(fields[12])) * CLOCK_TICK_MS;
    const rssKb = Number(fields[21]) * 4;
    return { pid, ppid, cpuMs, rssKb };
  } catch {
    return undefined; // exited while we listed it
  }
}

/** The process and all its descendants. */
export function processTree(rootPid: number): ProcEntry[] {
  const all: ProcEntry[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const entry = readProc(Number(name));
    if (entry) all.push(entry);
  }
  const inTree = new Set([rootPid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const entry of all) {
      if (!inTree.has(entry.pid) && inTree.has(entry.ppid)) {
        inTree.add(entry.pid);
        grew = true;
      }
    }
  }
  return all.filter((entry) => inTree.has(entry.pid));
}

/** CPU time (user + system, ms, 10 ms resolution) of a process tree, live processes only. */
export function treeCpuMs(rootPid: number): number {
  return processTree(rootPid).reduce((sum, entry) => sum + entry.cpuMs, 0);
}

/**
 * CPU ms of a Chromium process tree by process kind: `browser`, `renderer`, `gpu-process`, and
 * utility processes by service (`utility:network.mojom.NetworkService`, `utility:audio.mojom.AudioService`, …).
 */
export function treeCpuByKindMs(rootPid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const entry of processTree(rootPid)) {
    let kind = 'browser';
    try {
      // Chromium rewrites its children's process title: one space-separated string, not NUL-separated argv.
      const args = readFileSync(`/proc/${entry.pid}/cmdline`, 'utf8').split(/[\0 ]/);
      const type = args.find((arg) => arg.startsWith('--type='))?.slice(7);
      const service = args.find((arg) => arg.startsWith('--utility-sub-type='))?.slice(19);
      if (type) kind = service ? `${type}:${service}` : type;
    } catch {
      continue; // exited meanwhile
    }
    out[kind] = (out[kind] ?? 0) + entry.cpuMs;
  }
  return out;
}

export function processCpuMs(pid: number): number {
  return readProc(pid)?.cpuMs ?? Number.NaN;
}

/** RSS (KiB) of each Chromium renderer process under the browser. */
export function rendererRssKb(browserPid: number): number[] {
  return processTree(browserPid)
    .filter((entry) => {
      try {
        return readFileSync(`/proc/${entry.pid}/cmdline`, 'utf8').includes('--type=renderer');
      } catch {
        return false;
      }
    })
    .map((entry) => entry.rssKb);
}
