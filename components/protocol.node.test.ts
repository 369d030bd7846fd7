import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MAX_PRELOAD_BYTES,
  OfferRequestError,
  encodeMessage,
  ProtocolError,
  parseClientMessage,
  parseErrorBody,
  parseOfferRequest,
  parseOfferResponse,
  parseServerMessage,
  totalChunksOf,
} from './protocol.js';

const sdp = 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n';
const offer = { type: 'offer', sdp };

test('parseOfferRequest accepts a minimal request and keeps optional fields', () => {
  assert.deepEqual(parseOfferRequest({ offer, clientId: crypto.randomUUID().slice(0, 36), src: 'a/b.mp3' }).src, 'a/b.mp3');
  const full = parseOfferRequest({ offer, clientId: 'abc_-1', src: 'x.mp3', offset: 10, deferStart: true });
  assert.equal(full.offset, 10);
  assert.equal(full.deferStart, true);
});

test('parseOfferRequest names the field at fault', () => {
  const fieldOf = (body: unknown) => {
    try {
      parseOfferRequest(body);
    } catch (error) {
      assert.ok(error instanceof OfferRequestError);
      return error.field;
    }
    assert.fail('expected a rejection');
  };
  assert.equal(fieldOf(null), 'body');
  assert.equal(fieldOf([]), 'body');
  assert.equal(fieldOf({ offer, clientId: 'a', src: 'x', __proto__x: 1 }), 'body');
  assert.equal(fieldOf({ clientId: 'a', src: 'x' }), 'offer');
  assert.equal(fieldOf({ offer: { type: 'answer', sdp }, clientId: 'a', src: 'x' }), 'offer');
  assert.equal(fieldOf({ offer: { type: 'offer', sdp: 'hello' }, clientId: 'a', src: 'x' }), 'offer');
  assert.equal(fieldOf({ offer: { type: 'offer', sdp: 'v=0\r\nm=audio 9 RTP/AVP 0\r\n' }, clientId: 'a', src: 'x' }), 'offer');
  assert.equal(fieldOf({ offer, clientId: 'a b', src: 'x' }), 'clientId');
  assert.equal(fieldOf({ offer, clientId: 'a'.repeat(65), src: 'x' }), 'clientId');
  assert.equal(fieldOf({ offer, clientId: 'a', src: '' }), 'src');
  assert.equal(fieldOf({ offer, clientId: 'a', src: 'x', offset: -1 }), 'offset');
  assert.equal(fieldOf({ offer, clientId: 'a', src: 'x', offset: 1.5 }), 'offset');
  assert.equal(fieldOf({ offer, clientId: 'a', src: 'x', deferStart: 'yes' }), 'deferStart');
  assert.equal(fieldOf({ offer, clientId: 'a', src: 'x', deferStart: true, preloadBytes: -1 }), 'preloadBytes');
  assert.equal(fieldOf({ offer, clientId: 'a', src: 'x', deferStart: true, preloadBytes: 2.5 }), 'preloadBytes');
  assert.equal(fieldOf({ offer, clientId: 'a', src: 'x', deferStart: true, preloadBytes: '1024' }), 'preloadBytes');
  assert.equal(fieldOf({ offer, clientId: 'a', src: 'x', deferStart: true, preloadBytes: MAX_PRELOAD_BYTES + 1 }), 'preloadBytes');
  assert.equal(fieldOf({ offer, clientId: 'a', src: 'x', preloadBytes: 1024 }), 'preloadBytes', 'only with deferStart');
  assert.equal(fieldOf({ offer, clientId: 'a', src: 'x', windowEnd: 0 }), 'windowEnd', 'must be above offset 0');
  assert.equal(fieldOf({ offer, clientId: 'a', src: 'x', offset: 100, windowEnd: 100 }), 'windowEnd', 'must be above the offset');
  assert.equal(fieldOf({ offer, clientId: 'a', src: 'x', windowEnd: -5 }), 'windowEnd');
  assert.equal(fieldOf({ offer, clientId: 'a', src: 'x', windowEnd: 2.5 }), 'windowEnd');
  assert.equal(fieldOf({ offer, clientId: 'a', src: 'x', windowEnd: '65536' }), 'windowEnd');
  assert.equal(parseOfferRequest({ offer, clientId: 'a', src: 'x', offset: 100, windowEnd: 101 }).windowEnd, 101);
  assert.equal('windowEnd' in parseOfferRequest({ offer, clientId: 'a', src: 'x' }), false);
});

test('parseOfferRequest keeps a preview request, drops a zero one', () => {
  assert.equal(parseOfferRequest({ offer, clientId: 'a', src: 'x', deferStart: true, preloadBytes: 65536 }).preloadBytes, 65536);
  assert.equal(parseOfferRequest({ offer, clientId: 'a', src: 'x', deferStart: true, preloadBytes: MAX_PRELOAD_BYTES }).preloadBytes, MAX_PRELOAD_BYTES);
  assert.equal('preloadBytes' in parseOfferRequest({ offer, clientId: 'a', src: 'x', preloadBytes: 0 }), false);
});

test('metadata.preloadBytes: kept when it ends within the file, refused otherwise', () => {
  const base = { type: 'metadata', src: 'a', totalSize: 100, totalChunks: 1, chunkSize: 65536, mimeType: 'audio/mpeg' };
  const parsed = parseServerMessage(JSON.stringify({ ...base, offset: 10, preloadBytes: 90 }));
  assert.equal(parsed.type === 'metadata' && parsed.preloadBytes, 90);
  const none = parseServerMessage(JSON.stringify({ ...base, preloadBytes: 0 }));
  assert.equal(none.type === 'metadata' && 'preloadBytes' in none, false);
  for (const preloadBytes of [91, -1, 1.5, '10', null]) {
    assert.throws(() => parseServerMessage(JSON.stringify({ ...base, offset: 10, preloadBytes })), ProtocolError, String(preloadBytes));
  }
});

test('parseServerMessage round-trips every message and rejects the rest with a code', () => {
  const metadata = parseServerMessage(
    JSON.stringify({ type: 'metadata', src: 'a.mp3', totalSize: 100, totalChunks: 1, chunkSize: 65536, mimeType: 'audio/mpeg' }),
  );
  assert.equal(metadata.type, 'metadata');
  assert.equal(metadata.type === 'metadata' && metadata.offset, 0);
  assert.deepEqual(parseServerMessage('{"type":"complete"}'), { type: 'complete' });
  assert.deepEqual(parseServerMessage('{"type":"error","code":"READ_FAILED","message":"x"}'), {
    type: 'error',
    code: 'READ_FAILED',
    message: 'x',
  });
  const codeOf = (text: string) => {
    try {
      parseServerMessage(text);
    } catch (error) {
      assert.ok(error instanceof ProtocolError);
      return error.code;
    }
    assert.fail('expected a rejection');
  };
  assert.equal(codeOf('{'), 'INVALID_JSON');
  assert.equal(codeOf('[]'), 'INVALID_MESSAGE');
  assert.equal(codeOf('{"type":"nope"}'), 'INVALID_MESSAGE');
  assert.equal(codeOf('{"type":"error","code":"WHATEVER"}'), 'INVALID_MESSAGE');
  assert.equal(
    codeOf('{"type":"metadata","src":"a","totalSize":10,"totalChunks":1,"chunkSize":65536,"mimeType":"audio/mpeg","offset":10}'),
    'INVALID_MESSAGE',
  );
});

test('client messages, response and error bodies', () => {
  assert.deepEqual(parseClientMessage('{"type":"start"}'), { type: 'start' });
  assert.deepEqual(parseClientMessage('{"type":"start","offset":5}'), { type: 'start', offset: 5 });
  assert.throws(() => parseClientMessage('{"type":"start","offset":-5}'), ProtocolError);
  assert.throws(() => parseClientMessage('{"type":"start","note":1}'), /takes only "offset"/);
  assert.throws(() => parseClientMessage('x'.repeat(5000)), ProtocolError);
  assert.equal(parseOfferResponse({ answer: { type: 'answer', sdp } }).answer.sdp, sdp);
  assert.throws(() => parseOfferResponse({ answer: { type: 'offer', sdp } }), ProtocolError);
  assert.deepEqual(parseErrorBody({ error: { code: 'BAD_SRC', message: 'm' } }), { code: 'BAD_SRC', message: 'm' });
  assert.equal(parseErrorBody('<html>'), undefined);
  assert.equal(totalChunksOf(65536, 65536), 1);
  assert.equal(totalChunksOf(65537, 65536), 2);
});

test('flow-control messages: pause, resume and window, exactly', () => {
  assert.deepEqual(parseClientMessage('{"type":"window","end":0}'), { type: 'window', end: 0 });
  assert.deepEqual(parseClientMessage('{"end":2097152,"type":"window"}'), { type: 'window', end: 2097152 });
  assert.equal(encodeMessage({ type: 'window', end: 42 }), '{"type":"window","end":42}');
  assert.deepEqual(parseClientMessage('{"type":"pause"}'), { type: 'pause' });
  assert.deepEqual(parseClientMessage('{"type":"resume"}'), { type: 'resume' });
  assert.deepEqual(parseClientMessage(' { "type" : "pause" } '), { type: 'pause' }, 'JSON whitespace is fine');
  assert.equal(encodeMessage({ type: 'pause' }), '{"type":"pause"}');
  const codeOf = (text: string) => {
    try {
      parseClientMessage(text);
    } catch (error) {
      assert.ok(error instanceof ProtocolError, text);
      return error.code;
    }
    assert.fail(`expected a rejection of ${text.slice(0, 60)}`);
  };
  for (const hostile of [
    '{"type":"resume","offset":5}', // resume continues at the next byte; it takes no offset
    '{"type":"pause","for":1000}',
    '{"type":"Pause"}',
    '{"type":" pause"}',
    '{"type":["pause"]}',
    '{"type":null}',
    '{"type":"pause","type2":"resume"}',
    '{"type":"window"}',
    '{"type":"window","end":-1}',
    '{"type":"window","end":1.5}',
    '{"type":"window","end":"100"}',
    '{"type":"window","end":null}',
    '{"type":"window","end":9007199254740992}',
    '{"type":"window","end":100,"start":0}',
    '["pause"]',
    '"pause"',
    'null',
    '{"__proto__":{"type":"pause"}}',
    `{"type":"pause","pad":"${'x'.repeat(5000)}"}`,
  ]) {
    assert.equal(codeOf(hostile), 'INVALID_MESSAGE', hostile.slice(0, 60));
  }
  assert.equal(codeOf('pause'), 'INVALID_JSON');
  assert.equal(codeOf('{"type":"pause"'), 'INVALID_JSON');
  assert.equal(codeOf(''), 'INVALID_JSON');
});
