/**
 * Rebuilds a small Ogg Vorbis file from parsed packets, for decodeAudioData: Vorbis packets carry
 * no length, so several cannot share one WebCodecs chunk, and one chunk per packet (~43/s) costs
 * 2.5× the CPU of a one-shot decode. A re-muxed run of packets decodes in one call instead.
 *
 * Layout (Vorbis I spec, appendix A.2; framing per RFC 3533): the identification header alone on
 * a first page marked "beginning of stream", then the comment and setup headers (granule 0),
 * then the audio packets on fresh pages, each page's granule position being the PCM position
 * at the end of the last packet completed on it, the last page marked "end of stream".
 */
import { OGG_CAPTURE as CAPTURE, oggCrc } from './ogg-crc.js';

export { oggCrc };

/** The three Vorbis headers, as WebCodecs' description carries them (Xiph lacing). */
export interface VorbisHeaders {
  identification: Uint8Array;
  setup: Uint8Array;
}

/**
 * Splits the WebCodecs "vorbis" description (Xiph lacing: count − 1, then the sizes of all but
 * the last packet in 255-runs, then the packets) into its identification and setup headers;
 * undefined if it is not three Vorbis headers.
 */
export function readVorbisHeaders(description: Uint8Array): VorbisHeaders | undefined {
  if (description[0] !== 2) return undefined;
  let at = 1;
  const sizes: number[] = [];
  for (let packet = 0; packet < 2; packet++) {
    let size = 0;
    for (;;) {
      const lace = description[at++];
      if (lace === undefined) return undefined;
      size += lace;
      if (lace < 255) break;
    }
    sizes.push(size);
  }
  const identification = description.subarray(at, at + sizes[0]!);
  const setup = description.subarray(at + sizes[0]! + sizes[1]!);
  const isHeader = (packet: Uint8Array, type: number) =>
    packet[0] === type && String.fromCharCode(...packet.subarray(1, 7)) === 'vorbis';
  if (identification.length !== 30 || !isHeader(identification, 1) || !isHeader(setup, 5)) return undefined;
  return { identification, setup };
}

/**
 * An empty comment header ("\x03vorbis", no vendor, no comments, framing bit): the file's own
 * may carry cover art of hundreds of kilobytes, and the decoder ignores it anyway.
 */
const EMPTY_COMMENTS = new Uint8Array([3, 0x76, 0x6f, 0x72, 0x62, 0x69, 0x73, 0, 0, 0, 0, 0, 0, 0, 0, 1]);

const SERIAL = 0x52544341; // any constant: one logical stream per file

const FLAG_CONTINUED = 0x01;
const FLAG_BOS = 0x02;
const FLAG_EOS = 0x04;
const MAX_LACING = 255;
const HEADER_BYTES = 27;

/**
 * An Ogg Vorbis file of `packets`, whose decoded lengths are `samples` (0 for the first: a
 * Vorbis decoder returns nothing for the first packet it sees, it only primes the overlap).
 * Granule positions are the running sum of `samples`, so a demuxer trims nothing at either end.
 */
export function oggVorbisFile(headers: VorbisHeaders, packets: readonly Uint8Array[], samples: readonly number[]): Uint8Array {
  // Four runs of packets, each starting on a fresh page: the identification header alone on the
  // first page (marked "beginning of stream"); the comment and setup headers; the first audio
  // packet alone (granule 0). FFmpeg's Ogg demuxer (Chromium's decodeAudioData) dates the first
  // page's packets back from its granule with durations of its own, which count the first packet
  // too (as (previous + current block) / 4 even though it returns nothing); on a page that is also
  // the last, that surplus became an end trim of as many samples. Alone, the first packet only
  // starts the stream at a negative time, where it returns nothing anyway, and the last page is
  // dated from the granule before it. Then the other audio packets.
  const all = [headers.identification, EMPTY_COMMENTS, headers.setup, ...packets];
  const runs = ([[0, 1], [1, 3], [3, 4], [4, all.length]] as const).map(([from, to]) => [from, Math.min(to, all.length)] as const);
  // Sizes first, so the file is one allocation: a run's pages hold 255 lacing values each but its last.
  let total = 0;
  for (const [from, to] of runs) {
    let lacing = 0;
    for (let i = from; i < to; i++) (lacing += Math.floor(all[i]!.length / MAX_LACING) + 1), (total += all[i]!.length);
    total += lacing + HEADER_BYTES * Math.ceil(lacing / MAX_LACING);
  }
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let sequence = 0;
  let at = 0;
  let granule = 0;
  for (const [from, to] of runs) {
    if (from >= to) continue;
    let lacingLeft = 0;
    for (let i = from; i < to; i++) lacingLeft += Math.floor(all[i]!.length / MAX_LACING) + 1;
    // The page being written: where it starts, where its next lacing value and body byte go.
    let page = -1;
    let lace = 0;
    let laceEnd = 0;
    let body = 0;
    let pageGranule = -1;
    const finish = () => {
      if (page < 0) return;
      view.setBigInt64(page + 6, BigInt(pageGranule), true);
      view.setUint32(page + 22, oggCrc(out, page, body), true);
      at = body;
    };
    const start = (continued: boolean) => {
      finish();
      page = at;
      const count = Math.min(MAX_LACING, lacingLeft);
      out.set(CAPTURE, page);
      out[page + 5] = (continued ? FLAG_CONTINUED : 0) | (sequence === 0 ? FLAG_BOS : 0);
      view.setUint32(page + 14, SERIAL, true);
      view.setUint32(page + 18, sequence++, true);
      out[page + 26] = count;
      lace = page + HEADER_BYTES;
      laceEnd = lace + count;
      body = laceEnd;
      pageGranule = -1;
      lacingLeft -= count;
    };
    for (let i = from; i < to; i++) {
      const packet = all[i]!;
      if (i >= 3) granule += samples[i - 3]!;
      let offset = 0;
      // A packet of n bytes takes floor(n / 255) values of 255 and one below 255 (0 when n is a
      // multiple of 255): that final value is what marks its end.
      for (let values = Math.floor(packet.length / MAX_LACING) + 1; values > 0; ) {
        if (lace === laceEnd) start(offset > 0);
        const take = Math.min(values, laceEnd - lace);
        const ends = take === values;
        const bytes = ends ? packet.length - offset : take * MAX_LACING;
        out.fill(MAX_LACING, lace, lace + take - (ends ? 1 : 0));
        if (ends) out[lace + take - 1] = packet.length % MAX_LACING;
        out.set(packet.subarray(offset, offset + bytes), body);
        lace += take;
        body += bytes;
        offset += bytes;
        values -= take;
        if (ends) pageGranule = i >= 3 ? granule : 0;
      }
    }
    if (to === all.length) out[page + 5]! |= FLAG_EOS;
    finish();
  }
  return out;
}

