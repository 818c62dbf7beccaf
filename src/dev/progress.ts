import type { WorkflowCounts } from "./run-counts.js";

const barWidth = 24;

/** One line per workflow: a bar of finished runs and the counts by state. */
export function formatProgress(counts: readonly WorkflowCounts[]): string[] {
  const nameWidth = Math.max(8, ...counts.map((c) => c.workflow.length));
  return counts.map((c) => {
    const done = c.succeeded + c.failed + c.cancelled;
    const filled = c.started === 0 ? 0 : Math.round((done / c.started) * barWidth);
    const bar = `${"█".repeat(filled)}${"░".repeat(barWidth - filled)}`;
    const active = c.running + c.compensating;
    return `${c.workflow.padEnd(nameWidth)} ${bar} started ${c.started}  queued ${c.queued}  running ${active}  succeeded ${c.succeeded}  failed ${c.failed}${c.cancelled ? `  cancelled ${c.cancelled}` : ""}`;
  });
}

/**
 * Redraws the progress lines in place on a terminal; elsewhere (a pipe, CI)
 * prints them only when they change, so logs stay readable.
 *
 * Every redraw starts at column 0 (`\r`): the terminal echoes a Ctrl-C as `^C`
 * at the cursor, two columns in, and moving up from there and clearing to the
 * end of the screen kept the first two characters of the progress line, so
 * `stopping: draining the worker…` printed as `orstopping: …` (issue #16).
 */
export class ProgressDisplay {
  private previous: string[] = [];
  private drawn = 0;

  constructor(private readonly stream: NodeJS.WriteStream = process.stdout) {}

  update(lines: string[]): void {
    if (lines.join("\n") === this.previous.join("\n")) return;
    this.previous = lines;
    if (this.stream.isTTY) {
      this.stream.write(this.erase());
      this.stream.write(lines.map((l) => `${l}\n`).join(""));
      this.drawn = lines.length;
    } else {
      this.stream.write(lines.map((l) => `${l}\n`).join(""));
    }
  }

  /** Prints a log line above the progress lines. */
  log(line: string): void {
    if (this.stream.isTTY) {
      this.stream.write(`${this.erase()}${line}\n`);
      const drawn = this.drawn > 0;
      this.drawn = 0;
      if (drawn) this.update([...this.previous.splice(0)]);
    } else {
      this.stream.write(`${line}\n`);
    }
  }

  /** To column 0 of the first progress line (or of this line), and clears to the end of the screen. */
  private erase(): string {
    return `\r${this.drawn > 0 ? `\x1b[${this.drawn}A` : ""}\x1b[0J`;
  }
}
