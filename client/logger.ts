/** Lithops's log levels, least severe first. */
export const LOG_LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Logger {
  debug(line: string): void;
  info(line: string): void;
  warn(line: string): void;
}

/** Notes already logged by this process: each once, however many executors read the same file. */
const loggedNotes = new Set<string>();

/** Logs each note once per process, as `[config]`, at `at` if `level` lets it through. */
export function logOnce(notes: readonly string[], level: LogLevel, at: "info" | "warn"): void {
  // Below the level, nothing is marked as logged: a later executor at a lower level logs it.
  if (LOG_LEVELS.indexOf(level) > LOG_LEVELS.indexOf(at === "info" ? "INFO" : "WARNING")) return;
  const log = createLogger(level, "config");
  for (const note of notes) {
    if (loggedNotes.has(note)) continue;
    loggedNotes.add(note);
    log[at](note);
  }
}

/** Lithops's log levels, written to stderr with the executor id. */
export function createLogger(level: LogLevel, executorId: string): Logger {
  const threshold = LOG_LEVELS.indexOf(level);
  const at = (name: LogLevel) => (line: string) => {
    if (LOG_LEVELS.indexOf(name) >= threshold) process.stderr.write(`lithops-aca ${name} [${executorId}] ${line}\n`);
  };
  return { debug: at("DEBUG"), info: at("INFO"), warn: at("WARNING") };
}
