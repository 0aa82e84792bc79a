import cliProgress from "cli-progress";

export interface Progress {
  update(done: number, failed: number): void;
  stop(): void;
}

const SILENT: Progress = { update: () => undefined, stop: () => undefined };

/** A progress bar on stderr for waits on several calls; silent when stderr is not a terminal. */
export function startProgress(total: number, enabled: boolean, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!enabled || total < 2 || !stream.isTTY) return SILENT;
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: "  {bar} {value}/{total} calls | {failed} failed | {rate} calls/s | {duration_formatted}",
      hideCursor: true,
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
