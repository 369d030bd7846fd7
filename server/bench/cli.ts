/** `npm run bench` arguments. Pure: parses, validates, never exits. */
import path from 'node:path';

export const SECTIONS = ['startup', 'throughput', 'decode', 'memory', 'load'] as const;
export type Section = (typeof SECTIONS)[number];

/** Listener counts above this would need more client processes than this machine can hold. */
export const MAX_LISTENERS = 1000;

export const USAGE = `npm run bench -- [options]
  --only LIST           sections, comma-separated: ${SECTIONS.join(',')} (default: all)
  --runs N              runs per start-up case (default 5; throughput uses min(N,5), decode min(N,5))
  --listeners LIST      load-section listener counts (default 100,500; max ${MAX_LISTENERS})
  --load-window S       seconds of steady state measured per load run (default 10)
  --formats LIST        decode-section formats whose name contains one of these, comma-separated,
                        case-insensitive (e.g. mp3,flac; default: all)
  --memory-seconds S    seconds of playback before reading memory (default 10)
  --json FILE           raw samples + machine info (default bench-results.json, gitignored)
  --help`;

export interface Options {
  only: Set<Section>;
  runs: number;
  listeners: number[];
  json: string;
  memorySeconds: number;
  /** Decode-section filter: lower-case substrings of format names; empty = every format. */
  formats: string[];
  loadWindowSeconds: number;
  help: boolean;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function parseArgs(argv: readonly string[], cwd: string, defaultJson: string): Options {
  const options: Options = {
    only: new Set(SECTIONS),
    runs: 5,
    listeners: [100, 500],
    json: defaultJson,
    memorySeconds: 10,
    formats: [],
    loadWindowSeconds: 10,
    help: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const need = (): string => {
      const value = argv[i + 1];
      if (value === undefined || value.startsWith('--')) throw new UsageError(`${flag} needs a value`);
      i++;
      return value;
    };
    const positive = (text: string, max = 100_000): number => {
      const number = Number(text);
      if (!Number.isInteger(number) || number < 1 || number > max) throw new UsageError(`${flag}: expected an integer in [1, ${max}], got "${text}"`);
      return number;
    };
    if (flag === '--only') {
      const names = need().split(',').map((name) => name.trim());
      for (const name of names) {
        if (!SECTIONS.includes(name as Section)) throw new UsageError(`--only: unknown section "${name}" (sections: ${SECTIONS.join(', ')})`);
      }
      options.only = new Set(names as Section[]);
    } else if (flag === '--runs') options.runs = positive(need(), 1000);
    else if (flag === '--listeners') options.listeners = need().split(',').map((count) => positive(count, MAX_LISTENERS));
    else if (flag === '--json') options.json = path.resolve(cwd, need());
    else if (flag === '--formats') options.formats = need().split(',').map((name) => name.trim().toLowerCase()).filter((name) => name !== '');
    else if (flag === '--memory-seconds') options.memorySeconds = positive(need(), 3600);
    else if (flag === '--load-window') options.loadWindowSeconds = positive(need(), 600);
    else if (flag === '--help' || flag === '-h') options.help = true;
    else throw new UsageError(`unknown argument "${flag}"\n${USAGE}`);
  }
  return options;
}
