import cliProgress from 'cli-progress';
import type { ProgressEvent } from '@bigr/core';

/**
 * Shows library {@link ProgressEvent}s on stderr: a bar with ETA on a TTY, otherwise one plain line at most
 * every few seconds (so logs of background runs stay readable).
 */
export class ProgressDisplay {
  #bar: cliProgress.SingleBar | null = null;
  #lastLine = 0;
  #total = 0;
  readonly #tty: boolean;

  constructor(
    readonly label: string,
    private readonly stream: NodeJS.WritableStream,
    private readonly quiet: boolean,
  ) {
    this.#tty = Boolean((stream as NodeJS.WriteStream).isTTY);
  }

  /** Use as a library `onProgress` callback. */
  readonly update = (e: ProgressEvent): void => {
    if (this.quiet) return;
    const metrics = e.metrics
      ? Object.entries(e.metrics)
          .map(([k, v]) => `${k}=${formatNumber(v)}`)
          .join(' ')
      : '';
    if (this.#tty) {
      if (!this.#bar || this.#total !== e.total) {
        this.#bar?.stop();
        this.#bar = new cliProgress.SingleBar(
          { format: `${this.label} [{bar}] {value}/{total} | ETA {eta_formatted} | {metrics}`, stream: this.stream, hideCursor: true, etaBuffer: 50 },
          cliProgress.Presets.shades_classic,
        );
        this.#bar.start(e.total, 0, { metrics: '' });
        this.#total = e.total;
      }
      this.#bar.update(e.current, { metrics });
      return;
    }
    const now = Date.now();
    if (now - this.#lastLine > 5000 || e.current === e.total) {
      this.#lastLine = now;
      this.stream.write(`${this.label}: ${e.current}/${e.total} ${metrics}\n`);
    }
  };

  /** Stops the bar (call when the task ends or fails). */
  stop(): void {
    this.#bar?.stop();
    this.#bar = null;
  }
}

function formatNumber(v: number): string {
  return Math.abs(v) >= 1000 || Number.isInteger(v) ? String(v) : v.toPrecision(4);
}
