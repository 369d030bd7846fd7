/**
 * The baseline for the server-cost benchmark: bare @roamhq/wrtc peers doing nothing but sending.
 * The same signaling as the real server (`POST /api/offer` → `{ answer }`, answered at the first
 * local candidate), then a fixed 64 KiB buffer every 1000/PACE_CHUNKS_PER_SECOND ms while
 * `bufferedAmount` is under 256 KiB: no files, no protocol, no Koa. Prints
 * `bare-sender listening on http://HOST:PORT`. Closes every peer on SIGTERM/SIGINT.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HIGH_WATER_MARK, MAX_CHUNK_SIZE } from '../../../components/protocol.js';
import { wrtc } from '../../peers/wrtc.js';
import { setLocalDescriptionWithCandidates } from '../../peers/local-candidates.js';

const paceChunksPerSecond = Number(process.env.PACE_CHUNKS_PER_SECOND ?? 1);
const chunk = new Uint8Array(MAX_CHUNK_SIZE).fill(0x55);
const peers = new Set<RTCPeerConnection>();

function serve(peer: RTCPeerConnection, channel: RTCDataChannel): void {
  let timer: NodeJS.Timeout | undefined;
  const close = () => {
    clearInterval(timer);
    peers.delete(peer);
    peer.close();
  };
  channel.onopen = () => {
    timer = setInterval(() => {
      if (channel.readyState !== 'open') return close();
      if (channel.bufferedAmount < HIGH_WATER_MARK) channel.send(chunk);
    }, 1000 / paceChunksPerSecond);
  };
  channel.onclose = close;
  peer.onconnectionstatechange = () => {
    if (peer.connectionState === 'failed' || peer.connectionState === 'closed') close();
  };
}

async function answer(body: string): Promise<RTCSessionDescriptionInit> {
  const { offer } = JSON.parse(body) as { offer: RTCSessionDescriptionInit };
  const peer = new wrtc.RTCPeerConnection({ iceServers: [] });
  peers.add(peer);
  peer.ondatachannel = (event) => serve(peer, event.channel);
  await peer.setRemoteDescription(offer);
  const { sdp } = await setLocalDescriptionWithCandidates(peer, await peer.createAnswer(), 1000);
  return { type: 'answer', sdp };
}

const server = http.createServer((request, response) => {
  let body = '';
  request.on('data', (data: Buffer) => (body += data.toString()));
  request.on('end', () => {
    if (request.method !== 'POST' || request.url !== '/api/offer') {
      response.writeHead(404).end();
      return;
    }
    answer(body).then(
      (description) => response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ answer: description })),
      (error: unknown) => response.writeHead(400).end(String(error)),
    );
  });
});

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  console.log(`bare-sender listening on http://127.0.0.1:${port}`);
});

function shutdown(): void {
  for (const peer of peers) peer.close();
  server.close();
  setTimeout(() => process.exit(0), 300).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
