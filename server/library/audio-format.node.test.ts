import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mimeFromExtension, sniffAudioMime } from './audio-format';

const bytes = (...values: Array<number | string>): Uint8Array =>
  Uint8Array.from(values.flatMap((v) => (typeof v === 'string' ? [...v].map((c) => c.charCodeAt(0)) : [v])));

test('sniffAudioMime recognises the magic numbers of every streamed format', () => {
  assert.equal(sniffAudioMime(bytes('ID3', 4, 0, 0, 0, 0, 0, 0, 0)), 'audio/mpeg');
  assert.equal(sniffAudioMime(bytes(0xff, 0xfb, 0x90, 0x64)), 'audio/mpeg'); // MPEG-1 Layer III
  assert.equal(sniffAudioMime(bytes(0xff, 0xf3, 0x48, 0xc4)), 'audio/mpeg'); // MPEG-2 Layer III
  assert.equal(sniffAudioMime(bytes(0xff, 0xf1, 0x50, 0x80)), 'audio/aac'); // ADTS
  assert.equal(sniffAudioMime(bytes('OggS', 0, 2)), 'audio/ogg');
  assert.equal(sniffAudioMime(bytes('fLaC', 0, 0, 0, 34)), 'audio/flac');
  assert.equal(sniffAudioMime(bytes('RIFF', 1, 2, 3, 4, 'WAVE')), 'audio/wav');
  assert.equal(sniffAudioMime(bytes(0, 0, 0, 0x20, 'ftypM4A ')), 'audio/mp4');
  assert.equal(sniffAudioMime(bytes(0x1a, 0x45, 0xdf, 0xa3)), 'audio/webm');
});

test('sniffAudioMime refuses text, empty input and invalid frame headers', () => {
  assert.equal(sniffAudioMime(new Uint8Array(0)), undefined);
  assert.equal(sniffAudioMime(bytes('<!doctype html>')), undefined);
  assert.equal(sniffAudioMime(bytes('RIFF', 1, 2, 3, 4, 'AVI ')), undefined);
  assert.equal(sniffAudioMime(bytes(0xff, 0xfb, 0xf0, 0x64)), undefined); // bitrate index 1111
  assert.equal(sniffAudioMime(bytes(0xff, 0xfb, 0x9c, 0x64)), undefined); // sample rate index 11
  assert.equal(sniffAudioMime(bytes(0xff, 0xeb, 0x90, 0x64)), undefined); // reserved MPEG version
  assert.equal(sniffAudioMime(bytes(0xff, 0xe8, 0x50)), undefined); // layer 00 without the 12-bit ADTS sync
  assert.equal(sniffAudioMime(bytes(0xff, 0xf1, 0x3c)), undefined); // ADTS with sampling index 15
});

test('mimeFromExtension knows audio extensions, case-insensitively, and nothing else', () => {
  assert.equal(mimeFromExtension('a/b/Track.MP3'), 'audio/mpeg');
  assert.equal(mimeFromExtension('x.flac'), 'audio/flac');
  assert.equal(mimeFromExtension('x.opus'), 'audio/ogg');
  assert.equal(mimeFromExtension('notes.txt'), undefined);
  assert.equal(mimeFromExtension('mp3'), undefined);
  assert.equal(mimeFromExtension('.mp3'), undefined);
});
