/** Minimal leveled logger to stderr (stdout carries only the "listening on" line). */
const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;
type Level = Exclude<keyof typeof LEVELS, 'silent'>;

export type Logger = Record<Level, (message: string, detail?: unknown) => void>;

export function createLogger(level: string | undefined = process.env.LOG_LEVEL): Logger {
  const threshold = LEVELS[(level ?? 'info') as keyof typeof LEVELS] ?? LEVELS.info;
  const at =
    (name: Level) =>
    (message: string, detail?: unknown): void => {
      if (LEVELS[name] < threshold) return;
      const suffix = detail instanceof Error ? ` ${detail.stack ?? detail.message}` : detail === undefined ? '' : ` ${JSON.stringify(detail)}`;
      process.stderr.write(`${new Date().toISOString()} ${name} ${message}${suffix}\n`);
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
