/**
 * Test-only fault injection (RTC_TEST_HOOKS=1): what the next offers and the next stream should
 * suffer. The app only holds a FaultPlan when hooks are enabled, so `npm start` cannot reach it.
 */
import type { StreamFaults } from '../streaming/stream-session';

export interface FaultSettings {
  /** Answer the next offers with this HTTP status (400-599) instead of negotiating. */
  offerStatus?: number;
  /** Seconds for Retry-After on those answers. */
  offerRetryAfter?: number;
  /** Never answer the next offers (until the client gives up). */
  offerHang?: boolean;
  /** How many upcoming offers get offerStatus/offerHang (default 1). */
  offerCount?: number;
  /** The next stream's peer is closed after sending this many bytes. */
  closeAfterBytes?: number;
  /** The next stream stops sending after this many bytes, channel kept open. */
  stallAfterBytes?: number;
}

export interface OfferFault {
  status?: number;
  retryAfter?: number;
  hang: boolean;
}

const KEYS = new Set(['offerStatus', 'offerRetryAfter', 'offerHang', 'offerCount', 'closeAfterBytes', 'stallAfterBytes']);

const count = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

/** Validates a POST /__test/faults body; throws Error with a message naming the bad field. */
export function parseFaultSettings(body: unknown): FaultSettings {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Error('body must be a JSON object');
  const record = body as Record<string, unknown>;
  for (const key of Object.keys(record)) if (!KEYS.has(key)) throw new Error(`unknown field "${key.slice(0, 40)}"`);
  const { offerStatus, offerRetryAfter, offerHang, offerCount, closeAfterBytes, stallAfterBytes } = record;
  const settings: FaultSettings = {};
  if (offerStatus !== undefined) {
    if (!count(offerStatus) || offerStatus < 400 || offerStatus > 599) throw new Error('offerStatus must be 400-599');
    settings.offerStatus = offerStatus;
  }
  if (offerRetryAfter !== undefined) {
    if (!count(offerRetryAfter)) throw new Error('offerRetryAfter must be a count of seconds');
    settings.offerRetryAfter = offerRetryAfter;
  }
  if (offerHang !== undefined) {
    if (typeof offerHang !== 'boolean') throw new Error('offerHang must be a boolean');
    settings.offerHang = offerHang;
  }
  if (offerCount !== undefined) {
    if (!count(offerCount) || offerCount < 1) throw new Error('offerCount must be a positive integer');
    settings.offerCount = offerCount;
  }
  if (closeAfterBytes !== undefined) {
    if (!count(closeAfterBytes)) throw new Error('closeAfterBytes must be a byte count');
    settings.closeAfterBytes = closeAfterBytes;
  }
  if (stallAfterBytes !== undefined) {
    if (!count(stallAfterBytes)) throw new Error('stallAfterBytes must be a byte count');
    settings.stallAfterBytes = stallAfterBytes;
  }
  return settings;
}

export class FaultPlan {
  private offer: OfferFault | undefined;
  private offersLeft = 0;
  private stream: StreamFaults | undefined;

  /** Adds to the plan: offer faults replace offer faults, stream faults replace stream faults. */
  set(settings: FaultSettings): void {
    if (settings.offerStatus !== undefined || settings.offerHang) {
      this.offer = { hang: settings.offerHang === true };
      if (settings.offerStatus !== undefined) this.offer.status = settings.offerStatus;
      if (settings.offerRetryAfter !== undefined) this.offer.retryAfter = settings.offerRetryAfter;
      this.offersLeft = settings.offerCount ?? 1;
    }
    if (settings.closeAfterBytes !== undefined || settings.stallAfterBytes !== undefined) {
      this.stream = {};
      if (settings.closeAfterBytes !== undefined) this.stream.closeAfterBytes = settings.closeAfterBytes;
      if (settings.stallAfterBytes !== undefined) this.stream.stallAfterBytes = settings.stallAfterBytes;
    }
  }

  clear(): void {
    this.offer = undefined;
    this.offersLeft = 0;
    this.stream = undefined;
  }

  /** The fault for the offer arriving now, if any (counts it down). */
  takeOfferFault(): OfferFault | undefined {
    if (this.offer === undefined || this.offersLeft <= 0) return undefined;
    const fault = this.offer;
    this.offersLeft -= 1;
    if (this.offersLeft === 0) this.offer = undefined;
    return fault;
  }

  /** The faults for the stream being accepted now, if any (one stream only). */
  takeStreamFaults(): StreamFaults | undefined {
    const faults = this.stream;
    this.stream = undefined;
    return faults;
  }
}
