import cliProgress from 'cli-progress';

export interface ProgressOptions {
  /** What is being counted, e.g. `seeds`, `runs`, `clauses`. */
  label: string;
  total: number;
  /** No output at all (`--quiet`, `--json`). */
  quiet?: boolean;
  stream?: NodeJS.WriteStream;
}

/**
 * Progress of a long command: a bar with done/total, failures so far and time left on a
 * terminal; a plain line every 10% otherwise (CI logs); nothing when quiet.
 */
export class Progress {
  readonly #bar: cliProgress.SingleBar | undefined;
  readonly #plain: boolean;
  readonly #options: ProgressOptions;
  #done = 0;
  #failures = 0;
  #lastDecile = -1;

  constructor(options: ProgressOptions) {
    this.#options = options;
    const stream = options.stream ?? process.stderr;
    this.#plain = !options.quiet && !stream.isTTY;
    if (!options.quiet && stream.isTTY) {
      this.#bar = new cliProgress.SingleBar(
        {
          stream,
          format: `${options.label} [{bar}] {value}/{total} | failures {failures} | eta {eta_formatted}`,
          hideCursor: true,
          clearOnComplete: true,
          etaBuffer: 50,
        },
        cliProgress.Presets.shades_classic,
      );
      this.#bar.start(options.total, 0, { failures: 0 });
    }
  }

  /** Count `n` more done, `failed` of them failures. */
  tick(n = 1, failed = 0): void {
    this.#done += n;
    this.#failures += failed;
    this.#bar?.update(this.#done, { failures: this.#failures });
    if (this.#plain && this.#options.total > 0) {
      const decile = Math.floor((10 * this.#done) / this.#options.total);
      if (decile > this.#lastDecile) {
        this.#lastDecile = decile;
        (this.#options.stream ?? process.stderr).write(
          `${this.#options.label}: ${this.#done}/${this.#options.total} done, ${this.#failures} failed\n`,
        );
      }
    }
  }

  stop(): void {
    this.#bar?.stop();
  }
}
