import cliProgress from 'cli-progress';

/** A progress bar for a long phase; silent when the output is not a terminal (CI, tests). */
export interface Progress {
  update(value: number): void;
  stop(): void;
}

export function progressBar(label: string, total: number, enabled: boolean): Progress {
  const started = performance.now();
  // Without a terminal, one line per phase says how long it took (CI logs, piped output).
  if (!enabled || total <= 0)
    return {
      update: () => undefined,
      stop: () =>
        console.log(
          `  ${label}: ${total.toLocaleString('en')} in ${((performance.now() - started) / 1000).toFixed(1)} s`,
        ),
    };
  const bar = new cliProgress.SingleBar(
    {
      format: `  ${label.padEnd(34)} {bar} {percentage}% {value}/{total} {eta_formatted}`,
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return {
    update: (value) => bar.update(Math.min(value, total)),
    stop: () => bar.stop(),
  };
}
