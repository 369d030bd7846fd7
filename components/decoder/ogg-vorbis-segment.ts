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

/**
 * An Ogg Vorbis file of `packets`, whose decoded lengths are `samples` (0 for the first: a
 * Vorbis decoder returns nothing for the first packet it sees, it only primes the overlap).
 * Granule positions are the running sum of `samples`, so a demuxer trims nothing at either end.
 */
export function oggVorbisFile(headers: VorbisHeaders, packets: readonly Uint8Array[], samples: readonly number[]): Uint8Array {
  const pages: PageSpec[] = [];
  const headerPages = paginate([headers.identification], [0], 0);
  headerPages[0]!.flags |= FLAG_BOS;
  pages.push(...headerPages, ...paginate([EMPTY_COMMENTS, headers.setup], [0, 0], 1));
  const granules: number[] = [];
  let position = 0;
  for (const n of samples) granules.push((position += n));
  // The first packet alone on the first audio page (granule 0). FFmpeg's Ogg demuxer (Chromium's
  // decodeAudioData) dates the first page's packets back from its granule with durations of its
  // own, which count the first packet too (as (previous + current block) / 4 even though it
  // returns nothing); on a page that is also the last, that surplus became an end trim of as
  // many samples. Alone, the first packet only starts the stream at a negative time, where it
  // returns nothing anyway, and the last page is dated from the granule before it.
  pages.push(...paginate(packets.slice(0, 1), granules.slice(0, 1), pages.length));
  pages.push(...paginate(packets.slice(1), granules.slice(1), pages.length));
  pages[pages.length - 1]!.flags |= FLAG_EOS;
  return writePages(pages);
}

const FLAG_CONTINUED = 0x01;
const FLAG_BOS = 0x02;
const FLAG_EOS = 0x04;
const MAX_LACING = 255;
const HEADER_BYTES = 27;

interface PageSpec {
  flags: number;
  /** -1: no packet ends on this page. */
  granule: number;
  sequence: number;
  lacing: number[];
  /** Body parts, in order. */
  body: Uint8Array[];
}

/** Packs packets onto pages, starting a fresh page; at most 255 lacing values per page. */
function paginate(packets: readonly Uint8Array[], granules: readonly number[], sequence: number): PageSpec[] {
  const pages: PageSpec[] = [];
  let page: PageSpec = { flags: 0, granule: -1, sequence, lacing: [], body: [] };
  packets.forEach((packet, index) => {
    // A packet of n bytes takes floor(n / 255) values of 255 and one final value below 255
    // (0 when n is a multiple of 255): that final value is what marks its end.
    let offset = 0;
    for (;;) {
      if (page.lacing.length === MAX_LACING) {
        pages.push(page);
        page = { flags: offset > 0 ? FLAG_CONTINUED : 0, granule: -1, sequence: sequence + pages.length, lacing: [], body: [] };
      }
      const room = MAX_LACING - page.lacing.length;
      const left = packet.length - offset;
      const full = Math.floor(left / 255);
      if (full >= room) {
        // The packet goes on past this page.
        for (let i = 0; i < room; i++) page.lacing.push(255);
        page.body.push(packet.subarray(offset, offset + room * 255));
        offset += room * 255;
        continue;
      }
      for (let i = 0; i < full; i++) page.lacing.push(255);
      page.lacing.push(left % 255);
      page.body.push(packet.subarray(offset));
      page.granule = granules[index]!;
      break;
    }
  });
  if (page.lacing.length > 0) pages.push(page);
  return pages;
}

function writePages(pages: PageSpec[]): Uint8Array {
  let total = 0;
  for (const page of pages) total += HEADER_BYTES + page.lacing.length + page.body.reduce((n, b) => n + b.length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const page of pages) {
    const start = at;
    out.set(CAPTURE, at);
    out[at + 4] = 0; // stream structure version
    out[at + 5] = page.flags;
    // Granule positions are 64-bit little-endian; -1 is all ones.
    view.setBigInt64(at + 6, BigInt(page.granule), true);
    view.setUint32(at + 14, SERIAL, true);
    view.setUint32(at + 18, page.sequence, true);
    view.setUint32(at + 22, 0, true); // CRC, computed below over the page with this field zero
    out[at + 26] = page.lacing.length;
    out.set(page.lacing, at + HEADER_BYTES);
    at += HEADER_BYTES + page.lacing.length;
    for (const part of page.body) out.set(part, at), (at += part.length);
    view.setUint32(start + 22, oggCrc(out.subarray(start, at)), true);
  }
  return out;
}

