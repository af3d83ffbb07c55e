/**
 * Progress for long work: a redrawn bar with ETA on a terminal, plain lines otherwise (logs, CI,
 * notebooks), at most one plain line per `plainEverySec` seconds unless a message is given.
 */
export interface ProgressOptions {
  label: string;
  total: number;
  stream?: NodeJS.WriteStream;
  plainEverySec?: number;
}

export class Progress {
  private readonly start = Date.now();
  private lastPlain = 0;
  private done = 0;
  private readonly tty: boolean;
  private readonly stream: NodeJS.WriteStream;

  constructor(private readonly opts: ProgressOptions) {
    this.stream = opts.stream ?? process.stderr;
    this.tty = Boolean(this.stream.isTTY) && !process.env.CI;
  }

  /** Advance to `done` items; `message` is shown when the line is drawn (plain lines: every few seconds). */
  update(done: number, message = ""): void {
    this.done = done;
    const { total, label } = this.opts;
    const elapsed = (Date.now() - this.start) / 1000;
    const rate = done > 0 ? elapsed / done : 0;
    const eta = done > 0 && total > done ? formatDuration(rate * (total - done)) : "-";
    const pct = total > 0 ? Math.floor((100 * done) / total) : 100;
    if (this.tty) {
      const width = 24;
      const fill = total > 0 ? Math.round((width * done) / total) : width;
      const bar = "#".repeat(fill) + ".".repeat(width - fill);
      this.stream.write(`\r${label} [${bar}] ${done}/${total} ${pct}% eta ${eta} ${message}`.slice(0, 160).padEnd(100));
      if (done >= total) this.stream.write("\n");
      return;
    }
    const every = (this.opts.plainEverySec ?? 5) * 1000;
    if (done >= total || done === 1 || Date.now() - this.lastPlain >= every) {
      this.lastPlain = Date.now();
      this.stream.write(`${label} ${done}/${total} (${pct}%, ${formatDuration(elapsed)} elapsed, eta ${eta}) ${message}\n`);
    }
  }

  tick(message = ""): void {
    this.update(this.done + 1, message);
  }
}

export function formatDuration(sec: number): string {
  if (!Number.isFinite(sec)) return "-";
  if (sec < 60) return `${sec.toFixed(sec < 10 ? 1 : 0)}s`;
  const m = Math.floor(sec / 60);
  if (m < 60) return `${m}m${String(Math.round(sec % 60)).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}
