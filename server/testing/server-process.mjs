// Starts and stops real server processes for tests and benchmarks (plain JS so that the
// web-test-runner config, Node tests and the bench can all load it without a TS loader).
import { spawn } from 'node:child_process';
import { readdirSync, readlinkSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Spawns `server/main.ts` on HOST 127.0.0.1 and PORT (0 = a free port) and resolves once it
 * prints its "listening on <url>" line. `env` adds to (and overrides) the inherited environment.
 */
export function startServer({ port = 0, env = {}, timeoutMs = 20000 } = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'server', 'main.ts')], {
    cwd: root,
    env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const onData = (data) => {
      output += data.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        child.stdout.off('data', onData);
        // Keep draining so a chatty server never blocks on a full pipe.
        child.stdout.resume();
        const url = match[1].replace(/\/$/, '');
        resolve({ url, port: Number(new URL(url).port), child, stop: (signal) => stopServer(child, signal) });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (data) => {
      output += data.toString();
      if (process.env.SERVER_LOGS) process.stderr.write(data);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code ?? signal}) before listening:\n${output}`));
    });
  });
}

/** Sends `signal` (default SIGTERM) and resolves with the exit code/signal once the process is gone. */
export function stopServer(child, signal = 'SIGTERM', timeoutMs = 10000) {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code, sig) => {
      clearTimeout(timer);
      resolve({ code, signal: sig });
    });
    child.kill(signal);
  });
}

/** Open file descriptors and threads of a process (Linux /proc), for leak checks. */
/**
 * fds, files, threads and RSS of the server: the process and its descendants (the peers live in
 * a child process, server/peers/peer-host.ts), summed, so leak checks see the peers' resources.
 */
export function processStats(pid) {
  const total = ownStats(pid); // throws if the server itself is gone
  for (const one of descendants(pid)) {
    try {
      const stats = ownStats(one);
      for (const key of Object.keys(total)) total[key] += stats[key];
    } catch {
      // a child that exited while we looked
    }
  }
  return total;
}

function descendants(pid) {
  const found = [];
  let tasks = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return found;
  }
  for (const task of tasks) {
    let children = '';
    try {
      children = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8');
    } catch {
      continue;
    }
    for (const child of children.split(' ').filter(Boolean).map(Number)) found.push(child, ...descendants(child));
  }
  return found;
}

function ownStats(pid) {
  const fds = readdirSync(`/proc/${pid}/fd`).length;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const threads = Number(/^Threads:\s+(\d+)/m.exec(status)?.[1] ?? NaN);
  const rssKb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? NaN);
  let files = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('/')) files += 1;
    } catch {
      // fd closed while we listed it
    }
  }
  return { fds, files, threads, rssKb };
}

export { root as projectRoot };
