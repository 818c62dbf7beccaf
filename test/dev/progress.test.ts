// The progress lines of `rowflow dev` on a terminal, through a small terminal
// model (cursor, \r, \n, ESC[nA, ESC[0J). A Ctrl-C is echoed by the terminal
// as `^C` at the cursor: the next line must still start at column 0
// (`orstopping: draining…` was the first two characters of the progress line
// followed by the log line).
import { describe, expect, it } from "vitest";

import { formatProgress, ProgressDisplay } from "../../src/dev/progress.js";

/** A terminal screen that understands what ProgressDisplay writes. */
class Terminal {
  lines: string[] = [""];
  row = 0;
  col = 0;
  readonly isTTY: boolean;

  constructor(isTTY = true) {
    this.isTTY = isTTY;
  }

  write(text: string): boolean {
    for (let i = 0; i < text.length; i++) {
      const escape = text[i] === "\x1b" ? /^.\[(\d*)([AJ])/.exec(text.slice(i)) : null;
      if (escape) {
        if (escape[2] === "A") this.row = Math.max(0, this.row - Number(escape[1] || 1));
        else
          this.lines = [...this.lines.slice(0, this.row), this.lines[this.row]!.slice(0, this.col)];
        i += escape[0].length - 1;
      } else if (text[i] === "\r") {
        this.col = 0;
      } else if (text[i] === "\n") {
        this.row += 1;
        this.col = 0;
        this.lines[this.row] ??= "";
      } else {
        const line = this.lines[this.row]!.padEnd(this.col);
        this.lines[this.row] = line.slice(0, this.col) + text[i] + line.slice(this.col + 1);
        this.col += 1;
      }
    }
    return true;
  }

  screen(): string[] {
    return this.lines.filter((line, i) => line !== "" || i < this.lines.length - 1);
  }
}

const counts = (running: number, succeeded: number) => [
  {
    workflow: "order-fulfilment",
    started: running + succeeded,
    queued: 0,
    running,
    compensating: 0,
    succeeded,
    failed: 0,
    cancelled: 0,
  },
];

describe("ProgressDisplay on a terminal", () => {
  it("redraws the progress line in place, with log lines above it", () => {
    const terminal = new Terminal();
    const display = new ProgressDisplay(terminal as unknown as NodeJS.WriteStream);
    display.log("Press Ctrl-C to stop.");
    display.update(formatProgress(counts(2, 0)));
    display.log("[warn] attempt failed");
    display.update(formatProgress(counts(1, 1)));
    expect(terminal.screen()).toEqual([
      "Press Ctrl-C to stop.",
      "[warn] attempt failed",
      ...formatProgress(counts(1, 1)),
    ]);
  });

  it("after a Ctrl-C echoed as ^C, the next line starts at column 0", () => {
    const terminal = new Terminal();
    const display = new ProgressDisplay(terminal as unknown as NodeJS.WriteStream);
    display.log("Press Ctrl-C to stop.");
    display.update(formatProgress(counts(1, 0)));
    terminal.write("^C"); // the terminal's echo of Ctrl-C
    display.log("stopping: draining the worker…");
    expect(terminal.screen()).toEqual([
      "Press Ctrl-C to stop.",
      "stopping: draining the worker…",
      ...formatProgress(counts(1, 0)),
    ]);
  });

  it("after a ^C with no progress line drawn, the log line replaces it", () => {
    const terminal = new Terminal();
    const display = new ProgressDisplay(terminal as unknown as NodeJS.WriteStream);
    display.log("Press Ctrl-C to stop.");
    terminal.write("^C");
    display.log("stopping: draining the worker…");
    expect(terminal.screen()).toEqual(["Press Ctrl-C to stop.", "stopping: draining the worker…"]);
  });

  it("elsewhere (a pipe) prints lines as they come, progress only when it changes", () => {
    const pipe = new Terminal(false);
    const display = new ProgressDisplay(pipe as unknown as NodeJS.WriteStream);
    display.update(formatProgress(counts(1, 0)));
    display.update(formatProgress(counts(1, 0)));
    display.log("stopping: draining the worker…");
    expect(pipe.screen()).toEqual([
      ...formatProgress(counts(1, 0)),
      "stopping: draining the worker…",
    ]);
  });
});
