// Real-encoder variants for the decoder's format sweep (components/decoder/encoder-sweep.test.ts):
// made at test time with Debian's ffmpeg, lame and sox in a temp dir (never committed), served to
// the browser under /__encoder-variants/. Our committed fixtures cover one or two variants per
// format; what listeners upload comes from every encoder setting and tagger there is.
//
// Each variant says what the decoder must make of it: `decode` (rate, channels, length, and
// whether the container's gapless info makes the length and duration exact) or `unsupported`
// (a clean UNSUPPORTED_FORMAT, never a hang or silence).
//
// Sources are chirps (non-periodic, so an alignment search finds one lag) synthesised to an
// exact sample count, like make-fixtures.sh's; every channel gets its own sweep so that a channel
// mix-up shows. Deterministic: sox -R (repeatable) -D (no dither), ffmpeg -bitexact.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SECONDS = 1.5;
const SWEEPS = ['sine 180:2400', 'sine 260-1900', 'sine 340:1500', 'sine 120-900', 'sine 500:3000', 'sine 700-2000'];
const URL_PREFIX = '/__encoder-variants/';

/** Sample frames of a SECONDS-long source at `rate` (sox rounds half up). */
const framesAt = (rate) => Math.round(SECONDS * rate);

// ---------------------------------------------------------------------------------------------
// Hand-built tags and chunks that taggers write and our encoders do not.

const syncsafe = (n) => [(n >> 21) & 0x7f, (n >> 14) & 0x7f, (n >> 7) & 0x7f, n & 0x7f];
const le32 = (n) => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff];

/** An ID3v2.4 tag (one TIT2 frame) with the footer flag and its "3DI" footer (no padding allowed then). */
function id3v24WithFooter(title) {
  const text = Buffer.from(title, 'utf8');
  const frame = Buffer.concat([Buffer.from('TIT2'), Buffer.from(syncsafe(text.length + 1)), Buffer.from([0, 0, 3]), text]);
  const header = Buffer.from([0x49, 0x44, 0x33, 4, 0, 0x10, ...syncsafe(frame.length)]);
  const footer = Buffer.from([0x33, 0x44, 0x49, 4, 0, 0x10, ...syncsafe(frame.length)]);
  return Buffer.concat([header, frame, footer]);
}

/** A plain ID3v2.3 tag of `size` bytes (one TIT2 frame, the rest padding), as taggers put before any file. */
function id3v23(title, padding) {
  const text = Buffer.from(title, 'latin1');
  const frameSize = text.length + 1;
  const frame = Buffer.concat([Buffer.from('TIT2'), Buffer.from([0, 0, (frameSize >> 8) & 0xff, frameSize & 0xff, 0, 0, 0]), text]);
  const body = Buffer.concat([frame, Buffer.alloc(padding)]);
  return Buffer.concat([Buffer.from([0x49, 0x44, 0x33, 3, 0, 0, ...syncsafe(body.length)]), body]);
}

/** An APEv2 tag with header and footer (foobar2000, mp3gain and Picard write these at the end of MP3s). */
function apeTag(items) {
  const bodies = Object.entries(items).map(([key, value]) => {
    const v = Buffer.from(value, 'utf8');
    return Buffer.concat([Buffer.from(le32(v.length)), Buffer.from(le32(0)), Buffer.from(key + '\0', 'ascii'), v]);
  });
  const itemBytes = Buffer.concat(bodies);
  const block = (isHeader) =>
    Buffer.concat([
      Buffer.from('APETAGEX'),
      Buffer.from(le32(2000)),
      Buffer.from(le32(itemBytes.length + 32)),
      Buffer.from(le32(bodies.length)),
      Buffer.from(le32((1 << 31) | (isHeader ? 1 << 29 : 0))),
      Buffer.alloc(8),
    ]);
  return Buffer.concat([block(true), itemBytes, block(false)]);
}

/** A Lyrics3v2 tag (before an ID3v1 tag, as Winamp-era taggers wrote it). */
function lyrics3v2(lyrics) {
  const fields = Buffer.from(`IND0000210LYR${String(lyrics.length).padStart(5, '0')}${lyrics}`, 'latin1');
  const body = Buffer.concat([Buffer.from('LYRICSBEGIN'), fields]);
  return Buffer.concat([body, Buffer.from(String(body.length).padStart(6, '0') + 'LYRICS200', 'latin1')]);
}

/** A 128-byte ID3v1 tag. */
function id3v1(title) {
  const tag = Buffer.alloc(128);
  tag.write('TAG', 0, 'latin1');
  tag.write(title.slice(0, 30), 3, 'latin1');
  tag[127] = 255; // genre: none
  return tag;
}

/** RIFF chunks of a WAV file, in order: [{ id, body }] (the data chunk's body included). */
function readChunks(wav) {
  const chunks = [];
  for (let at = 12; at + 8 <= wav.length; ) {
    const id = wav.toString('latin1', at, at + 4);
    const size = wav.readUInt32LE(at + 4);
    chunks.push({ id, body: wav.subarray(at + 8, at + 8 + size) });
    at += 8 + size + (size & 1);
  }
  return chunks;
}

/** Writes chunks back as RIFF/WAVE, each padded to an even size; `sizes` overrides the size fields. */
function writeChunks(chunks, { riffSize, dataSize } = {}) {
  const parts = [];
  for (const { id, body } of chunks) {
    const size = id === 'data' && dataSize !== undefined ? dataSize : body.length;
    parts.push(Buffer.from(id, 'latin1'), Buffer.from(le32(size)), body);
    if (body.length & 1) parts.push(Buffer.alloc(1));
  }
  const all = Buffer.concat(parts);
  return Buffer.concat([Buffer.from('RIFF'), Buffer.from(le32(riffSize ?? all.length + 4)), Buffer.from('WAVE'), all]);
}

// ---------------------------------------------------------------------------------------------

/**
 * The sweep. `build(tool)` writes the variant and returns its path; expectations:
 * - decode: { rate, channels, frames (source length), exact (gapless info: length and duration
 *   exact), frame (codec frame: the tolerance when not exact) }
 * - unsupported: a clean UNSUPPORTED_FORMAT.
 * `reference(tool)`: the file to compare with, where decodeAudioData cannot decode the variant
 * itself as a player should (then the encoder's source, or the file without the odd part).
 */
const VARIANTS = [
  // MP3 -----------------------------------------------------------------------------------------
  { name: 'mp3-ffmpeg-128k.mp3', mime: 'audio/mpeg', decode: { rate: 44100, channels: 2, exact: true, frame: 1152 },
    build: (t) => t.ff(t.src(44100, 2), ['-c:a', 'libmp3lame', '-b:a', '128k']) },
  { name: 'mp3-ffmpeg-vbr-mono-48k.mp3', mime: 'audio/mpeg', decode: { rate: 48000, channels: 1, exact: true, frame: 1152 },
    build: (t) => t.ff(t.src(48000, 1), ['-c:a', 'libmp3lame', '-q:a', '4']) },
  { name: 'mp3-lame-320k.mp3', mime: 'audio/mpeg', decode: { rate: 44100, channels: 2, exact: true, frame: 1152 },
    build: (t) => t.lame(t.src(44100, 2), ['-b', '320', '--cbr']) },
  { name: 'mp3-lame-mpeg2-16k.mp3', mime: 'audio/mpeg', decode: { rate: 16000, channels: 1, exact: true, frame: 576 },
    build: (t) => t.lame(t.src(16000, 1), ['-b', '64']) },
  // 144-byte frames: LAME's info frame does not fit, so there is no gapless info.
  { name: 'mp3-lame-mpeg2-16k-32k-no-tag.mp3', mime: 'audio/mpeg', decode: { rate: 16000, channels: 1, exact: false, frame: 576 },
    build: (t) => t.lame(t.src(16000, 1), ['-b', '32']) },
  { name: 'mp3-lame-mpeg2-24k.mp3', mime: 'audio/mpeg', decode: { rate: 24000, channels: 2, exact: true, frame: 576 },
    build: (t) => t.lame(t.src(24000, 2), ['-V', '5']) },
  { name: 'mp3-lame-plain-stereo.mp3', mime: 'audio/mpeg', decode: { rate: 44100, channels: 2, exact: true, frame: 1152 },
    build: (t) => t.lame(t.src(44100, 2), ['-m', 's', '-b', '160']) },
  { name: 'mp3-lame-joint-stereo.mp3', mime: 'audio/mpeg', decode: { rate: 44100, channels: 2, exact: true, frame: 1152 },
    build: (t) => t.lame(t.src(44100, 2), ['-m', 'j', '-b', '112', '--resample', '44.1']) },
  { name: 'mp3-lame-crc.mp3', mime: 'audio/mpeg', decode: { rate: 44100, channels: 2, exact: true, frame: 1152 },
    build: (t) => t.lame(t.src(44100, 2), ['-p', '-b', '128']) },
  { name: 'mp3-id3v23-padded.mp3', mime: 'audio/mpeg', decode: { rate: 44100, channels: 2, exact: true, frame: 1152 },
    build: (t) => t.lame(t.src(44100, 2), ['-b', '128', '--id3v2-only', '--pad-id3v2-size', '4096', '--tt', 'Padded']) },
  { name: 'mp3-id3v24-footer.mp3', mime: 'audio/mpeg', decode: { rate: 44100, channels: 2, exact: true, frame: 1152 },
    build: async (t) => t.wrap(await t.lame(t.src(44100, 2), ['-b', '128']), id3v24WithFooter('With a footer'), Buffer.alloc(0)) },
  { name: 'mp3-ape-tag.mp3', mime: 'audio/mpeg', decode: { rate: 44100, channels: 2, exact: true, frame: 1152 },
    build: async (t) => t.wrap(await t.lame(t.src(44100, 2), ['-b', '128']), Buffer.alloc(0), apeTag({ Title: 'APE tagged', REPLAYGAIN_TRACK_GAIN: '-3.21 dB' })) },
  { name: 'mp3-ape-and-id3v1.mp3', mime: 'audio/mpeg', decode: { rate: 44100, channels: 2, exact: true, frame: 1152 },
    build: async (t) =>
      t.wrap(await t.lame(t.src(44100, 2), ['-b', '128']), Buffer.alloc(0), Buffer.concat([apeTag({ Title: 'Both tags' }), id3v1('Both tags')])) },
  { name: 'mp3-ffmpeg-id3v1.mp3', mime: 'audio/mpeg', decode: { rate: 44100, channels: 2, exact: true, frame: 1152 },
    build: (t) => t.ff(t.src(44100, 2), ['-c:a', 'libmp3lame', '-b:a', '128k', '-write_id3v1', '1', '-metadata', 'title=v1 too']) },
  { name: 'mp3-shine-no-info-frame.mp3', mime: 'audio/mpeg', decode: { rate: 44100, channels: 2, exact: false, frame: 1152 },
    build: (t) => t.ff(t.src(44100, 2), ['-c:a', 'libshine', '-b:a', '128k', '-write_xing', '0']) },
  // The smallest MPEG-1 frames (32 kbit/s at 48 kHz): the bit reservoir reaches back ~8 frames.
  // (96-byte frames: no room for LAME's info frame, so no gapless info either.)
  { name: 'mp3-lame-32k-48k.mp3', mime: 'audio/mpeg', decode: { rate: 48000, channels: 2, exact: false, frame: 1152 },
    build: (t) => t.lame(t.src(48000, 2), ['-b', '32', '--resample', '48']) },
  { name: 'mp3-lame-mpeg25-8k-vbr.mp3', mime: 'audio/mpeg', decode: { rate: 8000, channels: 1, exact: true, frame: 576 },
    build: (t) => t.lame(t.src(8000, 1), ['-V', '9']) },
  { name: 'mp3-lyrics3-and-id3v1.mp3', mime: 'audio/mpeg', decode: { rate: 44100, channels: 2, exact: true, frame: 1152 },
    build: async (t) => t.wrap(await t.lame(t.src(44100, 2), ['-b', '128']), Buffer.alloc(0), Buffer.concat([lyrics3v2('Some words'), id3v1('Lyrics too')])) },
  // Zero bytes between the ID3v2 tag and the first frame (taggers that shrink a tag in place).
  // decodeAudioData then misses the LAME tag (and keeps delay and padding): the reference is the
  // same MP3 without the zeros.
  { name: 'mp3-zeros-after-id3.mp3', mime: 'audio/mpeg', decode: { rate: 44100, channels: 2, exact: true, frame: 1152 },
    build: async (t) => t.wrap(await t.lame(t.src(44100, 2), ['-b', '128']), Buffer.concat([id3v23('Shrunk', 16), Buffer.alloc(700)]), Buffer.alloc(0)),
    reference: (t) => t.lame(t.src(44100, 2), ['-b', '128']) },
  { name: 'mp3-in-mp4.mp4', mime: 'audio/mp4', decode: { rate: 44100, channels: 2, exact: false, frame: 1152 },
    build: (t) => t.ff(t.src(44100, 2), ['-c:a', 'libmp3lame', '-b:a', '128k', '-movflags', '+faststart'], 'mp4') },

  // AAC -----------------------------------------------------------------------------------------
  { name: 'aac-adts-mono-44k.aac', mime: 'audio/aac', decode: { rate: 44100, channels: 1, exact: false, frame: 1024 },
    build: (t) => t.ff(t.src(44100, 1), ['-c:a', 'aac', '-b:a', '64k', '-f', 'adts']) },
  { name: 'aac-adts-8k.aac', mime: 'audio/aac', decode: { rate: 8000, channels: 1, exact: false, frame: 1024 },
    build: (t) => t.ff(t.src(8000, 1), ['-c:a', 'aac', '-b:a', '24k', '-f', 'adts']) },
  { name: 'aac-adts-48k.aac', mime: 'audio/aac', decode: { rate: 48000, channels: 2, exact: false, frame: 1024 },
    build: (t) => t.ff(t.src(48000, 2), ['-c:a', 'aac', '-b:a', '128k', '-f', 'adts']) },
  { name: 'aac-adts-96k.aac', mime: 'audio/aac', decode: { rate: 96000, channels: 2, exact: false, frame: 1024 },
    build: (t) => t.ff(t.src(96000, 2), ['-c:a', 'aac', '-b:a', '192k', '-f', 'adts']) },
  { name: 'aac-adts-5.1.aac', mime: 'audio/aac', decode: { rate: 48000, channels: 6, exact: false, frame: 1024 },
    build: (t) => t.ff(t.src(48000, 6), ['-c:a', 'aac', '-b:a', '256k', '-f', 'adts']) },
  { name: 'aac-adts-id3.aac', mime: 'audio/aac', decode: { rate: 44100, channels: 2, exact: false, frame: 1024 },
    build: async (t) => t.wrap(await t.ff(t.src(44100, 2), ['-c:a', 'aac', '-b:a', '96k', '-f', 'adts']), id3v23('ADTS with a tag', 100), Buffer.alloc(0)) },
  { name: 'm4a-faststart-mono-48k.m4a', mime: 'audio/mp4', decode: { rate: 48000, channels: 1, exact: true, frame: 1024 },
    build: (t) => t.ff(t.src(48000, 1), ['-c:a', 'aac', '-b:a', '64k', '-movflags', '+faststart']) },
  { name: 'm4a-5.1.m4a', mime: 'audio/mp4', decode: { rate: 48000, channels: 6, exact: true, frame: 1024 },
    build: (t) => t.ff(t.src(48000, 6), ['-c:a', 'aac', '-b:a', '256k', '-movflags', '+faststart']) },
  { name: 'm4a-cover-art.m4a', mime: 'audio/mp4', decode: { rate: 44100, channels: 2, exact: true, frame: 1024 },
    build: async (t) => t.ffWithCover(t.src(44100, 2), ['-c:a', 'aac', '-b:a', '96k', '-movflags', '+faststart'], 'ipod') },
  // A video track first and interleaved with the audio (a music video's audio, or a phone recording).
  { name: 'mp4-video-and-audio.mp4', mime: 'audio/mp4', decode: { rate: 44100, channels: 2, exact: true, frame: 1024 },
    build: (t) => t.ffWithVideo(t.src(44100, 2), ['-c:a', 'aac', '-b:a', '96k', '-movflags', '+faststart']) },
  { name: 'm4a-index-after-data.m4a', mime: 'audio/mp4', unsupported: true,
    build: (t) => t.ff(t.src(44100, 2), ['-c:a', 'aac', '-b:a', '96k']) },
  { name: 'm4a-fragmented.m4a', mime: 'audio/mp4', decode: { rate: 44100, channels: 2, exact: false, frame: 1024 },
    build: (t) => t.ff(t.src(44100, 2), ['-c:a', 'aac', '-b:a', '96k', '-movflags', '+frag_keyframe+empty_moov+default_base_moof', '-frag_duration', '500000']) },
  { name: 'm4a-alac.m4a', mime: 'audio/mp4', unsupported: true,
    build: (t) => t.ff(t.src(44100, 2), ['-c:a', 'alac', '-movflags', '+faststart']) },
  { name: 'mp4-opus.mp4', mime: 'audio/mp4', unsupported: true,
    build: (t) => t.ff(t.src(48000, 2), ['-c:a', 'libopus', '-b:a', '64k', '-movflags', '+faststart'], 'mp4') },

  // Ogg Opus ------------------------------------------------------------------------------------
  { name: 'opus-mono.opus', mime: 'audio/ogg', decode: { rate: 48000, channels: 1, exact: true, frame: 960 },
    build: (t) => t.ff(t.src(48000, 1), ['-c:a', 'libopus', '-b:a', '48k']) },
  { name: 'opus-5.1.opus', mime: 'audio/ogg', decode: { rate: 48000, channels: 6, exact: true, frame: 960 },
    build: (t) => t.ff(t.src(48000, 6), ['-c:a', 'libopus', '-b:a', '192k', '-mapping_family', '1']) },
  { name: 'opus-from-44k.opus', mime: 'audio/ogg', decode: { rate: 48000, channels: 2, exact: false, frame: 960 },
    build: (t) => t.ff(t.src(44100, 2), ['-c:a', 'libopus', '-b:a', '96k']) },
  { name: 'opus-2.5ms-frames.opus', mime: 'audio/ogg', decode: { rate: 48000, channels: 2, exact: true, frame: 960 },
    build: (t) => t.ff(t.src(48000, 2), ['-c:a', 'libopus', '-b:a', '128k', '-frame_duration', '2.5']) },
  { name: 'opus-60ms-frames.opus', mime: 'audio/ogg', decode: { rate: 48000, channels: 2, exact: true, frame: 2880 },
    build: (t) => t.ff(t.src(48000, 2), ['-c:a', 'libopus', '-b:a', '64k', '-frame_duration', '60']) },
  { name: 'opus-120ms-frames.opus', mime: 'audio/ogg', decode: { rate: 48000, channels: 2, exact: true, frame: 5760 },
    build: (t) => t.ff(t.src(48000, 2), ['-c:a', 'libopus', '-b:a', '64k', '-frame_duration', '120']) },
  { name: 'opus-voip-16k.opus', mime: 'audio/ogg', decode: { rate: 48000, channels: 1, exact: true, frame: 960 },
    build: (t) => t.ff(t.src(16000, 1), ['-c:a', 'libopus', '-b:a', '16k', '-application', 'voip']) },
  { name: 'opus-picture-comment.opus', mime: 'audio/ogg', decode: { rate: 48000, channels: 2, exact: true, frame: 960 },
    build: (t) => t.ffWithPictureComment(t.src(48000, 2), ['-c:a', 'libopus', '-b:a', '64k']) },

  // Ogg Vorbis ----------------------------------------------------------------------------------
  { name: 'vorbis-mono.ogg', mime: 'audio/ogg', decode: { rate: 44100, channels: 1, exact: true, frame: 2048 },
    build: (t) => t.ff(t.src(44100, 1), ['-c:a', 'libvorbis', '-q:a', '3']) },
  { name: 'vorbis-48k-q0.ogg', mime: 'audio/ogg', decode: { rate: 48000, channels: 2, exact: true, frame: 2048 },
    build: (t) => t.ff(t.src(48000, 2), ['-c:a', 'libvorbis', '-q:a', '0']) },
  { name: 'vorbis-q10.ogg', mime: 'audio/ogg', decode: { rate: 44100, channels: 2, exact: true, frame: 2048 },
    build: (t) => t.ff(t.src(44100, 2), ['-c:a', 'libvorbis', '-q:a', '10']) },
  { name: 'vorbis-8k.ogg', mime: 'audio/ogg', decode: { rate: 8000, channels: 1, exact: true, frame: 2048 },
    build: (t) => t.ff(t.src(8000, 1), ['-c:a', 'libvorbis', '-q:a', '2']) },
  { name: 'vorbis-5.1.ogg', mime: 'audio/ogg', decode: { rate: 48000, channels: 6, exact: true, frame: 2048 },
    build: (t) => t.ff(t.src(48000, 6), ['-c:a', 'libvorbis', '-q:a', '3']) },
  { name: 'vorbis-picture-comment.ogg', mime: 'audio/ogg', decode: { rate: 44100, channels: 2, exact: true, frame: 2048 },
    build: (t) => t.ffWithPictureComment(t.src(44100, 2), ['-c:a', 'libvorbis', '-q:a', '3']) },
  { name: 'ogg-flac.oga', mime: 'audio/ogg', unsupported: true,
    build: (t) => t.ff(t.src(44100, 2), ['-c:a', 'flac', '-f', 'ogg']) },

  // FLAC ----------------------------------------------------------------------------------------
  { name: 'flac-16-stereo-44k.flac', mime: 'audio/flac', decode: { rate: 44100, channels: 2, exact: true, frame: 4608 },
    build: (t) => t.ff(t.src(44100, 2), ['-c:a', 'flac']) },
  { name: 'flac-24bit.flac', mime: 'audio/flac', decode: { rate: 48000, channels: 2, exact: true, frame: 4608 },
    build: (t) => t.ff(t.src(48000, 2, 24), ['-c:a', 'flac', '-sample_fmt', 's32']) },
  { name: 'flac-96k.flac', mime: 'audio/flac', decode: { rate: 96000, channels: 2, exact: true, frame: 4608 },
    build: (t) => t.ff(t.src(96000, 2, 24), ['-c:a', 'flac', '-sample_fmt', 's32']) },
  { name: 'flac-8k-mono.flac', mime: 'audio/flac', decode: { rate: 8000, channels: 1, exact: true, frame: 4608 },
    build: (t) => t.ff(t.src(8000, 1), ['-c:a', 'flac']) },
  { name: 'flac-5.1.flac', mime: 'audio/flac', decode: { rate: 48000, channels: 6, exact: true, frame: 4608 },
    build: (t) => t.ff(t.src(48000, 6), ['-c:a', 'flac']) },
  { name: 'flac-picture.flac', mime: 'audio/flac', decode: { rate: 44100, channels: 2, exact: true, frame: 4608 },
    build: (t) => t.ffWithCover(t.src(44100, 2), ['-c:a', 'flac'], 'flac') },
  { name: 'flac-sox-seektable.flac', mime: 'audio/flac', decode: { rate: 44100, channels: 2, exact: true, frame: 4608 },
    build: (t) => t.sox(t.src(44100, 2), 'flac') },
  { name: 'flac-id3v2-before.flac', mime: 'audio/flac', decode: { rate: 44100, channels: 2, exact: true, frame: 4608 },
    build: async (t) => t.wrap(await t.ff(t.src(44100, 2), ['-c:a', 'flac']), id3v23('FLAC with an ID3 tag', 256), Buffer.alloc(0)) },
  { name: 'flac-block-1152.flac', mime: 'audio/flac', decode: { rate: 44100, channels: 2, exact: true, frame: 1152 },
    build: (t) => t.ff(t.src(44100, 2), ['-c:a', 'flac', '-frame_size', '1152']) },
  { name: 'flac-block-16384.flac', mime: 'audio/flac', decode: { rate: 44100, channels: 2, exact: true, frame: 16384 },
    build: (t) => t.ff(t.src(44100, 2), ['-c:a', 'flac', '-frame_size', '16384']) },
  { name: 'flac-from-pipe.flac', mime: 'audio/flac', decode: { rate: 44100, channels: 2, exact: false, frame: 4608 },
    build: (t) => t.ffPipe(t.src(44100, 2), ['-c:a', 'flac', '-f', 'flac']) },

  // WAV -----------------------------------------------------------------------------------------
  { name: 'wav-u8.wav', mime: 'audio/wav', decode: { rate: 22050, channels: 1, exact: true, frame: 1 },
    build: (t) => t.ff(t.src(22050, 1), ['-c:a', 'pcm_u8']) },
  { name: 'wav-s24-stereo.wav', mime: 'audio/wav', decode: { rate: 48000, channels: 2, exact: true, frame: 1 },
    build: (t) => t.ff(t.src(48000, 2, 24), ['-c:a', 'pcm_s24le']) },
  { name: 'wav-s32.wav', mime: 'audio/wav', decode: { rate: 44100, channels: 2, exact: true, frame: 1 },
    build: (t) => t.ff(t.src(44100, 2, 24), ['-c:a', 'pcm_s32le']) },
  // Chromium's decodeAudioData refuses 64-bit float WAV: the reference is the 16-bit source.
  { name: 'wav-f64.wav', mime: 'audio/wav', decode: { rate: 44100, channels: 1, exact: true, frame: 1 }, reference: (t) => t.src(44100, 1),
    build: (t) => t.ff(t.src(44100, 1), ['-c:a', 'pcm_f64le']) },
  { name: 'wav-extensible-5.1.wav', mime: 'audio/wav', decode: { rate: 48000, channels: 6, exact: true, frame: 1 },
    build: (t) => t.ff(t.src(48000, 6), ['-c:a', 'pcm_s16le']) },
  { name: 'wav-sox-extensible-24.wav', mime: 'audio/wav', decode: { rate: 44100, channels: 2, exact: true, frame: 1 },
    build: (t) => t.sox(t.src(44100, 2, 24), 'wav', ['-b', '24', '-e', 'signed-integer']) },
  { name: 'wav-list-info.wav', mime: 'audio/wav', decode: { rate: 44100, channels: 2, exact: true, frame: 1 },
    build: (t) => t.ff(t.src(44100, 2), ['-c:a', 'pcm_s16le', '-metadata', 'title=Listed', '-metadata', 'artist=Someone']) },
  { name: 'wav-odd-chunk.wav', mime: 'audio/wav', decode: { rate: 22050, channels: 1, exact: true, frame: 1 },
    build: async (t) => {
      const chunks = readChunks(await readFile(await t.ff(t.src(22050, 1), ['-c:a', 'pcm_u8'])));
      const data = chunks.find((c) => c.id === 'data');
      // An odd-sized chunk (pad byte) before the data, and an odd-sized data chunk (8-bit mono,
      // one frame short) followed by its pad byte and a LIST chunk.
      const odd = [{ id: 'fmt ', body: chunks[0].body }, { id: 'junk', body: Buffer.from('odd') }, { id: 'data', body: data.body.subarray(0, data.body.length - 1) },
        { id: 'LIST', body: Buffer.from('INFOISFT\x05\0\0\0tail\0', 'latin1') }];
      return t.write('wav-odd-chunk.wav', writeChunks(odd));
    }, frames: framesAt(22050) - 1 },
  // Broadcast WAV: a bext chunk before the data; RF64-ready: a JUNK chunk reserving room for ds64.
  { name: 'wav-bwf-bext.wav', mime: 'audio/wav', decode: { rate: 48000, channels: 2, exact: true, frame: 1 },
    build: (t) => t.ff(t.src(48000, 2, 24), ['-c:a', 'pcm_s24le', '-write_bext', '1', '-metadata', 'description=BWF']) },
  { name: 'wav-junk-rf64-auto.wav', mime: 'audio/wav', decode: { rate: 44100, channels: 2, exact: true, frame: 1 },
    build: (t) => t.ff(t.src(44100, 2), ['-c:a', 'pcm_s16le', '-rf64', 'auto']) },
  { name: 'wav-ffmpeg-pipe.wav', mime: 'audio/wav', decode: { rate: 44100, channels: 2, exact: false, frame: 1 },
    build: (t) => t.ffPipe(t.src(44100, 2), ['-c:a', 'pcm_s16le', '-f', 'wav']) },
  { name: 'wav-sizes-zero.wav', mime: 'audio/wav', decode: { rate: 44100, channels: 2, exact: false, frame: 1 },
    build: async (t) => t.write('wav-sizes-zero.wav', writeChunks(readChunks(await readFile(await t.ff(t.src(44100, 2), ['-c:a', 'pcm_s16le']))), { riffSize: 0, dataSize: 0 })) },
  { name: 'wav-rf64.wav', mime: 'audio/wav', decode: { rate: 44100, channels: 2, exact: true, frame: 1 },
    build: (t) => t.ff(t.src(44100, 2), ['-c:a', 'pcm_s16le', '-rf64', 'always']) },
  { name: 'wav-mulaw.wav', mime: 'audio/wav', decode: { rate: 8000, channels: 1, exact: true, frame: 1 },
    build: (t) => t.ff(t.src(8000, 1), ['-c:a', 'pcm_mulaw']) },
  { name: 'wav-alaw.wav', mime: 'audio/wav', decode: { rate: 8000, channels: 1, exact: true, frame: 1 },
    build: (t) => t.ff(t.src(8000, 1), ['-c:a', 'pcm_alaw']) },
  { name: 'wav-ms-adpcm.wav', mime: 'audio/wav', unsupported: true,
    build: (t) => t.ff(t.src(22050, 1), ['-c:a', 'adpcm_ms']) },
  { name: 'wav-ima-adpcm.wav', mime: 'audio/wav', unsupported: true,
    build: (t) => t.ff(t.src(22050, 1), ['-c:a', 'adpcm_ima_wav']) },

  // Tiny files (a UI sound, a click): fewer frames than any batch, segment or warm-up --------------
  { name: 'tiny-mp3.mp3', mime: 'audio/mpeg', decode: { rate: 44100, channels: 2, exact: true, frame: 1152 }, frames: 2205,
    build: (t) => t.lame(t.src(44100, 2, 16, 0.05), ['-b', '128']) },
  { name: 'tiny-aac.m4a', mime: 'audio/mp4', decode: { rate: 44100, channels: 2, exact: true, frame: 1024 }, frames: 2205,
    build: (t) => t.ff(t.src(44100, 2, 16, 0.05), ['-c:a', 'aac', '-b:a', '96k', '-movflags', '+faststart']) },
  { name: 'tiny-opus.opus', mime: 'audio/ogg', decode: { rate: 48000, channels: 2, exact: true, frame: 960 }, frames: 2400,
    build: (t) => t.ff(t.src(48000, 2, 16, 0.05), ['-c:a', 'libopus', '-b:a', '64k']) },
  { name: 'tiny-vorbis.ogg', mime: 'audio/ogg', decode: { rate: 44100, channels: 2, exact: true, frame: 2048 }, frames: 2205,
    build: (t) => t.ff(t.src(44100, 2, 16, 0.05), ['-c:a', 'libvorbis', '-q:a', '3']) },
  { name: 'tiny-flac.flac', mime: 'audio/flac', decode: { rate: 44100, channels: 2, exact: true, frame: 4608 }, frames: 2205,
    build: (t) => t.ff(t.src(44100, 2, 16, 0.05), ['-c:a', 'flac']) },

  // Chained Ogg (streams one after the other: radio recordings, `cat a.ogg b.ogg`): the first
  // stream plays, exactly (decodeAudioData plays both: the reference is the first alone).
  { name: 'chained-opus.opus', mime: 'audio/ogg', decode: { rate: 48000, channels: 1, exact: true, frame: 960 },
    build: async (t) => { const a = await t.ff(t.src(48000, 1), ['-c:a', 'libopus', '-b:a', '48k']); return t.wrap(a, Buffer.alloc(0), await readFile(a)); },
    reference: (t) => t.ff(t.src(48000, 1), ['-c:a', 'libopus', '-b:a', '48k']) },
  { name: 'chained-vorbis-other-setup.ogg', mime: 'audio/ogg', decode: { rate: 44100, channels: 1, exact: true, frame: 2048 },
    build: async (t) => t.wrap(await t.ff(t.src(44100, 1), ['-c:a', 'libvorbis', '-q:a', '3']), Buffer.alloc(0), await readFile(await t.ff(t.src(44100, 1), ['-c:a', 'libvorbis', '-q:a', '8']))),
    reference: (t) => t.ff(t.src(44100, 1), ['-c:a', 'libvorbis', '-q:a', '3']) },

  // Other containers: refused at once --------------------------------------------------------------
  { name: 'aiff-s16.aiff', mime: 'audio/aiff', unsupported: true,
    build: (t) => t.ff(t.src(44100, 2), ['-c:a', 'pcm_s16be'], 'aiff') },
  // WebM/Matroska: Opus (what MediaRecorder and YouTube write) is read; other codecs refused.
  { name: 'webm-vorbis.webm', mime: 'audio/webm', unsupported: true,
    build: (t) => t.ff(t.src(44100, 2), ['-c:a', 'libvorbis', '-q:a', '3'], 'webm') },

  // WebM/Matroska Opus ----------------------------------------------------------------------------
  // Chromium's decodeAudioData of a WebM trims 24 samples less than the OpusHead's pre-skip of
  // 312 (measured; as if rounded to Matroska's 1 ms timestamps): the reference is the same
  // packets in Ogg (libopus with -bitexact writes the same ones).
  { name: 'webm-opus.webm', mime: 'audio/webm', decode: { rate: 48000, channels: 2, exact: true, frame: 960 },
    build: (t) => t.ff(t.src(48000, 2), ['-c:a', 'libopus', '-b:a', '64k'], 'webm'),
    reference: (t) => t.ff(t.src(48000, 2), ['-c:a', 'libopus', '-b:a', '64k']) },
  { name: 'webm-opus-mono-from-44k.webm', mime: 'audio/webm', decode: { rate: 48000, channels: 1, exact: false, frame: 960 },
    build: (t) => t.ff(t.src(44100, 1), ['-c:a', 'libopus', '-b:a', '32k'], 'webm') },
  // Written to a pipe like a live recorder: Segment and Clusters of unknown size, no Cues.
  { name: 'webm-opus-live.webm', mime: 'audio/webm', decode: { rate: 48000, channels: 2, exact: true, frame: 960 },
    build: (t) => t.ffPipe(t.src(48000, 2), ['-c:a', 'libopus', '-b:a', '64k', '-live', '1', '-f', 'webm']),
    reference: (t) => t.ff(t.src(48000, 2), ['-c:a', 'libopus', '-b:a', '64k']) },
  { name: 'mka-opus-5.1.mka', mime: 'audio/webm', decode: { rate: 48000, channels: 6, exact: true, frame: 960 },
    build: (t) => t.ff(t.src(48000, 6), ['-c:a', 'libopus', '-b:a', '192k', '-mapping_family', '1'], 'matroska'),
    reference: (t) => t.ff(t.src(48000, 6), ['-c:a', 'libopus', '-b:a', '192k', '-mapping_family', '1']) },
];

/** Runs the tools in `dir`; sources and the cover are made once each. */
function toolkit(dir) {
  const made = new Map();
  const once = (key, make) => {
    if (!made.has(key)) made.set(key, make());
    return made.get(key);
  };
  const out = (name) => path.join(dir, name);
  const ff = (args) => run('ffmpeg', ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y', ...args], { maxBuffer: 64 << 20 });
  let counter = 0;
  const tool = {
    /** The source WAV: `seconds` (SECONDS unless said) of per-channel chirps at `rate`. */
    src(rate, channels, bits = 16, seconds = SECONDS) {
      return once(`src-${rate}-${channels}-${bits}-${seconds}`, async () => {
        const file = out(`src-${rate}-${channels}-${bits}-${seconds}.wav`);
        const sweeps = SWEEPS.slice(0, channels).join(' ').split(' ');
        await run('sox', ['-R', '-D', '-n', '-r', String(rate), '-c', String(channels), '-b', String(bits), file, 'synth', String(seconds), ...sweeps, 'vol', '0.45']);
        return file;
      });
    },
    /** A 300×300 noise PNG (~270 KB, incompressible): cover art far larger than one Ogg page or MP4 box read. */
    cover() {
      return once('cover', async () => {
        const file = out('cover.png');
        await ff(['-f', 'lavfi', '-i', 'color=c=gray:s=300x300,noise=alls=100:allf=u:all_seed=7,format=rgb24', '-frames:v', '1', '-bitexact', file]);
        return file;
      });
    },
    /**
     * An ffmetadata file whose METADATA_BLOCK_PICTURE comment is the PNG above as a front cover
     * (base64, as Vorbis comments carry it: ~360 KB, several Ogg pages); too big for an argument.
     */
    pictureComment() {
      return once('picture', async () => {
        const png = await readFile(await tool.cover());
        const mime = Buffer.from('image/png');
        const u32 = (n) => Buffer.from([(n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
        const block = Buffer.concat([u32(3), u32(mime.length), mime, u32(0), u32(300), u32(300), u32(24), u32(0), u32(png.length), png]);
        const file = out('picture.ffmeta');
        // ffmetadata escapes '=', ';', '#', '\\' and newlines with a backslash.
        await writeFile(file, `;FFMETADATA1\nMETADATA_BLOCK_PICTURE=${block.toString('base64').replace(/[=;#\\]/g, '\\$&')}\n`);
        return file;
      });
    },
    async ffWithPictureComment(source, args) {
      const file = out(`v${counter++}.ogg`);
      await ff(['-i', await source, '-f', 'ffmetadata', '-i', await tool.pictureComment(), '-map', '0:a', '-map_metadata', '1', ...args, '-bitexact', '-f', 'ogg', file]);
      return file;
    },
    async ff(source, args, format) {
      const file = out(`v${counter++}.${format ?? 'out'}`);
      const target = format ? ['-f', format, file] : [file];
      await ff(['-i', await source, ...args, '-bitexact', ...(format || args.includes('-f') ? [] : ['-f', guessFormat(args)]), ...target]);
      return file;
    },
    async ffWithCover(source, args, format) {
      const file = out(`v${counter++}.${format}`);
      await ff(['-i', await source, '-i', await tool.cover(), '-map', '0:a', '-map', '1:v', '-c:v', 'copy', '-disposition:v', 'attached_pic', ...args, '-bitexact', '-f', format, file]);
      return file;
    },
    /** The source's audio with a small video track (listed first) in an MP4. */
    async ffWithVideo(source, args) {
      const file = out(`v${counter++}.mp4`);
      await ff(['-f', 'lavfi', '-i', `testsrc=s=64x48:r=10:d=${SECONDS}`, '-i', await source, '-map', '0:v', '-map', '1:a', '-c:v', 'mpeg4', ...args, '-bitexact', '-f', 'mp4', file]);
      return file;
    },
    /** ffmpeg writing to a pipe: it cannot seek back to fill in sizes and counts. */
    async ffPipe(source, args) {
      const { stdout } = await run('ffmpeg', ['-nostdin', '-hide_banner', '-loglevel', 'error', '-i', await source, ...args, '-bitexact', 'pipe:1'], {
        encoding: 'buffer',
        maxBuffer: 64 << 20,
      });
      return tool.write(`v${counter++}.pipe`, stdout);
    },
    async lame(source, args) {
      const file = out(`v${counter++}.mp3`);
      await run('lame', ['--quiet', '--nohist', ...args, await source, file]);
      return file;
    },
    async sox(source, type, args = []) {
      const file = out(`v${counter++}.${type}`);
      await run('sox', ['-D', await source, ...args, '-t', type, file]);
      return file;
    },
    /** `before` + the file's bytes + `after`. */
    async wrap(file, before, after) {
      return tool.write(`v${counter++}.wrapped`, Buffer.concat([before, await readFile(file), after]));
    },
    async write(name, bytes) {
      const file = out(`w${counter++}-${name}`);
      await writeFile(file, bytes);
      return file;
    },
  };
  return tool;
}

/** The ffmpeg muxer for an output without an explicit -f (the variant's args say the codec). */
function guessFormat(args) {
  const codec = args[args.indexOf('-c:a') + 1];
  if (codec === 'libmp3lame' || codec === 'libshine') return 'mp3';
  if (codec === 'libopus' || codec === 'libvorbis') return 'ogg';
  if (codec === 'flac') return 'flac';
  if (codec === 'aac' || codec === 'alac') return 'ipod';
  return 'wav';
}

/** Runs `tasks` with at most `limit` at once (the machine has 2 cores). */
async function pool(tasks, limit) {
  const results = new Array(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < tasks.length) {
        const i = next++;
        results[i] = await tasks[i]();
      }
    }),
  );
  return results;
}

/**
 * Builds the variants named (all by default) into a new temp dir: their expectations and files.
 * `remove()` deletes the dir. Node tests use this directly; the browser gets it through the
 * middleware below.
 */
export async function buildVariants(names) {
  const dir = await mkdtemp(path.join(tmpdir(), 'encoder-variants-'));
  const t = toolkit(dir);
  const chosen = names ? VARIANTS.filter((v) => names.includes(v.name)) : VARIANTS;
  const entries = await pool(
    chosen.map((variant) => async () => {
      const file = await variant.build(t);
      // A source at another rate (Opus always decodes at 48 kHz) is the same SECONDS long.
      const expectation = variant.unsupported ? { unsupported: true } : { ...variant.decode, frames: variant.frames ?? framesAt(variant.decode.rate) };
      const reference = variant.reference && (await variant.reference(t));
      return { name: variant.name, mimeType: variant.mime, file, reference, ...expectation };
    }),
    2,
  );
  return { dir, entries, remove: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * The web-test-runner pieces: `middleware` serves the manifest (building every variant on the
 * first request) and the files; `plugin` removes the temp dir when the run ends.
 */
export function encoderVariants() {
  let built;
  const build = async () => {
    const started = Date.now();
    const variants = await buildVariants();
    const { entries } = variants;
    const files = new Map(entries.flatMap((e) => [[e.name, e.file], ...(e.reference ? [[`${e.name}.reference`, e.reference]] : [])]));
    const manifest = entries.map(({ file, reference, ...rest }) => ({ ...rest, ...(reference ? { reference: `${rest.name}.reference` } : {}) }));
    return { files, manifest, buildMs: Date.now() - started, remove: variants.remove };
  };
  const middleware = async (ctx, next) => {
    if (!ctx.path.startsWith(URL_PREFIX)) return next();
    built ??= build();
    const { files, manifest, buildMs } = await built;
    const name = decodeURIComponent(ctx.path.slice(URL_PREFIX.length));
    if (name === 'manifest.json') {
      ctx.type = 'application/json';
      ctx.body = JSON.stringify({ buildMs, variants: manifest });
      return;
    }
    const file = files.get(name);
    if (!file) return next();
    ctx.type = 'application/octet-stream';
    ctx.body = await readFile(file);
  };
  const plugin = {
    name: 'encoder-variants',
    async serverStop() {
      if (built) await (await built).remove();
    },
  };
  return { middleware, plugin };
}
