// Browser-test helpers shared by every suite that talks to a real server process: start/stop it
// through the wtr server plugin, drive its test fault hooks, read its health, plus the small
// async and byte utilities those tests all need.
import { executeServerCommand } from '@web/test-runner-commands';
import type { FaultSettings } from '../../server/faults/fault-plan.js';

export interface TestServer {
  id: string;
  url: string;
  /** The scratch copy of the library the server streams from. */
  audioDir: string;
}

/** A real server with the test hooks on, streaming a scratch copy of `library` (a project folder). */
export async function startTestServer(library: string, env: Record<string, string> = {}): Promise<TestServer> {
  return (await executeServerCommand('server-start', {
    env: { RTC_TEST_HOOKS: '1', ...env },
    copyLibraryFrom: library,
  })) as TestServer;
}

export async function stopTestServer(server: TestServer | undefined): Promise<void> {
  if (server) await executeServerCommand('server-stop', { id: server.id }).catch(() => undefined);
}

export type Faults = FaultSettings;

export async function setFaults(server: TestServer, faults: Faults): Promise<void> {
  const response = await fetch(`${server.url}/__test/faults`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(faults),
  });
  if (!response.ok) throw new Error(`setting faults failed: HTTP ${response.status} ${await response.text()}`);
}

export async function clearFaults(server: TestServer): Promise<void> {
  await fetch(`${server.url}/__test/faults`, { method: 'DELETE' });
}

export async function activePeers(server: TestServer): Promise<number> {
  const response = await fetch(`${server.url}/api/health`);
  return ((await response.json()) as { activePeers: number }).activePeers;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls until `check` holds; throws naming `what` after `timeoutMs`. */
export async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 10000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}

export async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}
