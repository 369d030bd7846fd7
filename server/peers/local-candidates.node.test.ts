import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setLocalDescriptionWithCandidates, withCandidates } from './local-candidates';
import { wrtc } from './wrtc';

const SDP = ['v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0', 'm=application 9 UDP/DTLS/SCTP webrtc-datachannel', 'c=IN IP4 0.0.0.0', 'a=mid:0', ''].join('\r\n');

test('candidates go at the end of the media section they belong to, each as an a= line', () => {
  const twoSections = `${SDP}m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:1\r\n`;
  const out = withCandidates(twoSections, [
    { candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 40000 typ host', sdpMLineIndex: 0 },
    { candidate: 'candidate:2 1 udp 2122260223 127.0.0.1 40001 typ host', sdpMLineIndex: 1 },
    { candidate: 'candidate:3 1 udp 1 127.0.0.1 40002 typ host', sdpMLineIndex: 7 }, // no such section
  ]);
  assert.equal(
    out,
    `${SDP}a=candidate:1 1 udp 2122260223 127.0.0.1 40000 typ host\r\n` +
      'm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:1\r\na=candidate:2 1 udp 2122260223 127.0.0.1 40001 typ host\r\n',
  );
  assert.equal(withCandidates(SDP, []), SDP);
});

test('two wrtc peers connect on descriptions built from candidate events, never reading localDescription', async () => {
  const offerer = new wrtc.RTCPeerConnection({ iceServers: [] });
  const answerer = new wrtc.RTCPeerConnection({ iceServers: [] });
  try {
    const channel = offerer.createDataChannel('probe');
    const opened = new Promise<void>((resolve) => (channel.onopen = () => resolve()));
    const received = new Promise<string>((resolve) => {
      answerer.ondatachannel = (event) => (event.channel.onmessage = (message: MessageEvent) => resolve(String(message.data)));
    });
    const offer = await setLocalDescriptionWithCandidates(unreadable(offerer), await offerer.createOffer(), 1000);
    assert.ok(offer.candidates >= 1);
    assert.match(offer.sdp, /^a=candidate:\S+ \d+ udp /m);
    await answerer.setRemoteDescription({ type: 'offer', sdp: offer.sdp });
    const answer = await setLocalDescriptionWithCandidates(unreadable(answerer), await answerer.createAnswer(), 1000);
    assert.ok(answer.candidates >= 1);
    await offerer.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
    await opened;
    channel.send('hello');
    assert.equal(await received, 'hello');
  } finally {
    offerer.close();
    answerer.close();
  }
});

test('a peer that goes away while gathering is let go at once, with what it has', async () => {
  const pc = new wrtc.RTCPeerConnection({ iceServers: [] });
  try {
    pc.createDataChannel('probe');
    const started = performance.now();
    const result = await setLocalDescriptionWithCandidates(pc, await pc.createOffer(), 30_000, () => true);
    assert.ok(performance.now() - started < 10_000, 'waited for the 30 s timeout');
    assert.equal(result.candidates, (result.sdp.match(/^a=candidate:/gm) ?? []).length);
  } finally {
    pc.close();
  }
});

/** The peer, except that reading its localDescription (the race this module avoids) throws. */
function unreadable(pc: RTCPeerConnection): RTCPeerConnection {
  return new Proxy(pc, {
    get(target, key) {
      if (key === 'localDescription') throw new Error('localDescription was read');
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
    set: (target, key, value) => Reflect.set(target, key, value, target),
  });
}
