/**
 * Parses a `Server-Timing` header (W3C Server Timing): `name;dur=1.2;desc="text", other;dur=3`.
 * The signaling server reports how long it took to answer (and its ICE gathering wait); the bench
 * subtracts that from the HTTP round trip. Cross-origin, the browser only lets us read the header
 * when the server lists it in `Access-Control-Expose-Headers`; otherwise this sees null → [].
 */
export interface ServerTimingMetric {
  name: string;
  /** Milliseconds, when the metric has a valid `dur`. */
  duration?: number;
  description?: string;
}

const MAX_METRICS = 32;

export function parseServerTiming(header: string | null | undefined): ServerTimingMetric[] {
  if (!header) return [];
  const metrics: ServerTimingMetric[] = [];
  for (const entry of splitOutsideQuotes(header, ',')) {
    if (metrics.length >= MAX_METRICS) break;
    const [rawName, ...params] = splitOutsideQuotes(entry, ';');
    const name = rawName?.trim();
    if (!name || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) continue;
    const metric: ServerTimingMetric = { name };
    const seen = new Set<string>();
    for (const param of params) {
      const eq = param.indexOf('=');
      if (eq < 0) continue;
      const key = param.slice(0, eq).trim().toLowerCase();
      const value = unquote(param.slice(eq + 1).trim());
      // The spec: only the first occurrence of a parameter counts, valid or not.
      if (seen.has(key)) continue;
      seen.add(key);
      if (key === 'dur') {
        const duration = Number(value);
        if (value !== '' && Number.isFinite(duration)) metric.duration = duration;
      } else if (key === 'desc') {
        metric.description = value;
      }
    }
    metrics.push(metric);
  }
  return metrics;
}

function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const ch = text[i]!;
    if (quoted && ch === '\\' && i + 1 < text.length) {
      current += ch + text[i + 1];
      i += 1;
      continue;
    }
    if (ch === '"') quoted = !quoted;
    if (ch === separator && !quoted) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts;
}

function unquote(value: string): string {
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    return value.slice(1, -1).replace(/\\(.)/g, '$1');
  }
  return value;
}
