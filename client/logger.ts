/** Lithops's log levels, least severe first. */
export const LOG_LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Logger {
  debug(line: string): void;
  info(line: string): void;
  warn(line: string): void;
}

/** Lithops's log levels, written to stderr with the executor id. */
export function createLogger(level: LogLevel, executorId: string): Logger {
  const threshold = LOG_LEVELS.indexOf(level);
  const at = (name: LogLevel) => (line: string) => {
    if (LOG_LEVELS.indexOf(name) >= threshold) process.stderr.write(`lithops-aca ${name} [${executorId}] ${line}\n`);
  };
  return { debug: at("DEBUG"), info: at("INFO"), warn: at("WARNING") };
}
