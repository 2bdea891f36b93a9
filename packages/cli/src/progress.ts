import cliProgress from 'cli-progress';

/**
 * A progress bar on stderr for long jobs (imports, replays, generation). When
 * stderr is not a terminal (CI, pipes) it prints a line every 10% instead.
 */
export interface Progress {
  update(done: number, total?: number): void;
  stop(): void;
}

export function progressBar(
  label: string,
  total: number,
  stream: NodeJS.WriteStream = process.stderr,
): Progress {
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${label} [{bar}] {percentage}% {value}/{total} {eta_formatted} left`,
        stream,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(Math.max(total, 1), 0);
    return {
      update: (done, newTotal) => {
        if (newTotal !== undefined) bar.setTotal(Math.max(newTotal, 1));
        bar.update(done);
      },
      stop: () => bar.stop(),
    };
  }
  let lastDecile = -1;
  let currentTotal = total;
  return {
    update: (done, newTotal) => {
      if (newTotal !== undefined) currentTotal = newTotal;
      const decile = currentTotal > 0 ? Math.floor((done / currentTotal) * 10) : 10;
      if (decile > lastDecile) {
        lastDecile = decile;
        stream.write(`${label}：${done}/${currentTotal}（${Math.min(decile * 10, 100)}%）\n`);
      }
    },
    stop: () => {},
  };
}
