/** Summary statistics and Markdown rendering for the benchmark. Pure. */

export interface Summary {
  n: number;
  median: number;
  p95: number;
  min: number;
  max: number;
}

/** Linear-interpolated quantile of the samples (q in [0, 1]); NaN when empty. */
export function quantile(samples: readonly number[], q: number): number {
  const sorted = samples.filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
  if (!sorted.length) return Number.NaN;
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (position - low);
}

export function summarize(samples: readonly number[]): Summary {
  const finite = samples.filter((value) => Number.isFinite(value));
  return {
    n: finite.length,
    median: quantile(finite, 0.5),
    p95: quantile(finite, 0.95),
    min: finite.length ? Math.min(...finite) : Number.NaN,
    max: finite.length ? Math.max(...finite) : Number.NaN,
  };
}

export function formatNumber(value: number, digits = 1): string {
  if (!Number.isFinite(value)) return '–';
  if (Math.abs(value) >= 100) return value.toFixed(0);
  return value.toFixed(digits);
}

/** "median (p95)" */
export function formatSummary(summary: Summary, digits = 1): string {
  if (!summary.n) return '–';
  return summary.n > 1 ? `${formatNumber(summary.median, digits)} (${formatNumber(summary.p95, digits)})` : formatNumber(summary.median, digits);
}

export function ratio(ours: Summary, theirs: Summary): string {
  if (!ours.n || !theirs.n || theirs.median === 0) return '–';
  return `${(ours.median / theirs.median).toFixed(2)}×`;
}

export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const escape = (cell: string) => cell.replace(/\|/g, '\\|');
  return [
    `| ${header.map(escape).join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((row) => `| ${row.map(escape).join(' | ')} |`),
  ].join('\n');
}
