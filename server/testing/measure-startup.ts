/**
 * Start-up timing of the real server process against real wrtc client peers (Node ↔ Node):
 * the server's own offer→answer time (Server-Timing) and, from the client's
 * `new RTCPeerConnection`, the answer, channel open, metadata and first chunk.
 * Run: server/testing/in-loopback-netns.sh node --import tsx server/testing/measure-startup.ts [runs]
 * Prints medians and p95; asserts nothing.
 */
import { fakeMp3, tempLibrary } from './fixtures';
// @ts-expect-error plain JS harness module without type declarations
import { startServer } from './server-process.mjs';
import { TestClient } from './wrtc-client';

const runs = Number(process.argv[2] ?? 20);
const lib = await tempLibrary();
await lib.write('track.mp3', fakeMp3(2_000_000));
const server = (await startServer({ env: { AUDIO_DIR: lib.dir } })) as { url: string; stop(signal?: string): Promise<unknown> };

const samples: Record<string, number[]> = { serverAnswer: [], serverGather: [], answer: [], channelOpen: [], metadata: [], firstChunk: [] };
try {
  for (let i = 0; i < runs + 2; i++) {
    const client = new TestClient(server.url, { src: 'track.mp3' });
    try {
      await client.connect();
      await client.until(() => client.result.chunks.length > 0);
    } finally {
      client.close();
    }
    if (i < 2) continue; // warm-up: module loading and JIT on both sides
    const t = client.timing;
    const timing = Object.fromEntries(
      (t.serverTiming ?? '').split(',').map((entry) => {
        const [name, dur] = entry.trim().split(';dur=');
        return [name, Number(dur)];
      }),
    ) as Record<string, number>;
    samples.serverAnswer!.push(timing.answer ?? NaN);
    samples.serverGather!.push(timing.gather ?? NaN);
    samples.answer!.push(t.answerReceived! - t.peerCreated);
    samples.channelOpen!.push(t.channelOpen! - t.peerCreated);
    samples.metadata!.push(t.metadata! - t.peerCreated);
    samples.firstChunk!.push(t.firstChunk! - t.peerCreated);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
} finally {
  await server.stop('SIGTERM');
  await lib.remove();
}

const quantile = (values: number[], q: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
};
console.log(`| measure (ms, ${runs} runs) | median | p95 |\n|---|---|---|`);
for (const [name, values] of Object.entries(samples)) {
  console.log(`| ${name} | ${quantile(values, 0.5).toFixed(1)} | ${quantile(values, 0.95).toFixed(1)} |`);
}
