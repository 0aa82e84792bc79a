import cliProgress from "cli-progress";

export interface Progress {
  update(done: number, failed: number): void;
  stop(): void;
}

const SILENT: Progress = { update: () => undefined, stop: () => undefined };

/** Where the bar is drawn: stderr, or any writable that says it is a terminal. */
export type ProgressStream = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

/**
 * A progress bar on stderr for waits on several calls (done/total, failures, rate); silent
 * when disabled, for fewer than 2 calls, or when the stream is not a terminal.
 */
export function startProgress(total: number, enabled: boolean, stream: ProgressStream = process.stderr): Progress {
  if (!enabled || total < 2 || !stream.isTTY) return SILENT;
  // Fit the line into the terminal: the bar shrinks before the numbers are cut.
  const text = `   ${total}/${total} calls | ${total} failed | 99999.9 calls/s | 59m59s`.length;
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: "  {bar} {value}/{total} calls | {failed} failed | {rate} calls/s | {duration_formatted}",
      barsize: Math.max(5, Math.min(40, (stream.columns ?? 80) - text)),
      // Leave no terminal state behind (a hidden cursor, wrapping off) if the process is
      // interrupted while the bar is shown: cli-progress trims the line to the width itself.
      hideCursor: false,
      linewrap: true,
      clearOnComplete: false,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  const started = Date.now();
  bar.start(total, 0, { failed: 0, rate: "0" });
  return {
    update(done, failed) {
      const seconds = Math.max((Date.now() - started) / 1000, 0.001);
      bar.update(done, { failed, rate: (done / seconds).toFixed(1) });
    },
    stop() {
      bar.stop();
    },
  };
}
