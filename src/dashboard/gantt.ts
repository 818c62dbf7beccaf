// A run's attempts as a Gantt chart in SVG, drawn on the server like the
// DAG (dag.ts): one row per step, one bar per attempt from its start to its
// end, coloured by outcome (class a-<outcome>), and before each bar a thin
// one for the time it waited (queued, or a retry's backoff). The time axis
// runs from the run's creation to its end, or to now while it runs: a
// running attempt's bar ends at now and is marked open (data-open), and the
// page's script refetches it every 2 s while one is, so the bar grows.
import type { AttemptRow } from "./attempt-queries.js";
import { type Html, html } from "./html.js";

const labelWidth = 160;
const chartWidth = 760;
const rowHeight = 24;
const top = 22;

export function ms(n: number): string {
  if (n < 1000) return `${Math.round(n)} ms`;
  if (n < 60_000) return `${(n / 1000).toFixed(1)} s`;
  if (n < 3_600_000) return `${(n / 60_000).toFixed(1)} min`;
  return `${(n / 3_600_000).toFixed(1)} h`;
}

export function ganttSvg(
  attempts: readonly AttemptRow[],
  run: { createdAt: Date; finishedAt: Date | null },
): Html {
  if (attempts.length === 0) return html`<p class="muted" id="gantt">No attempt has started.</p>`;
  const now = attempts[0]!.now.getTime();
  const t0 = run.createdAt.getTime();
  const t1 = Math.max(
    run.finishedAt?.getTime() ?? now,
    ...attempts.map((a) => (a.endedAt ?? a.now).getTime()),
    t0 + 1,
  );
  const x = (t: number) => labelWidth + ((t - t0) / (t1 - t0)) * chartWidth;
  const steps = [...new Set(attempts.map((a) => a.step))].sort(
    (a, b) => first(attempts, a) - first(attempts, b) || a.localeCompare(b),
  );
  const height = top + steps.length * rowHeight + 6;
  const ticks = niceTicks(t1 - t0).map((t) => {
    const px = labelWidth + (t / (t1 - t0)) * chartWidth;
    return html`<g class="tick"
      ><line x1="${px}" x2="${px}" y1="${top - 4}" y2="${height}" /><text x="${px}" y="12"
        >${ms(t)}</text
      ></g
    >`;
  });
  const rows = steps.map((step, i) => {
    const y = top + i * rowHeight;
    const own = attempts.filter((a) => a.step === step);
    const bars = own.map((a, j) => {
      // A retry waited from the end of the attempt before it.
      const queued = a.queuedAt ?? (j > 0 ? own[j - 1]!.endedAt : null);
      const open = a.endedAt === null;
      const start = a.startedAt?.getTime() ?? null;
      const end = (a.endedAt ?? a.now).getTime();
      const waitedUntil = start ?? end;
      const waited = queued === null ? null : waitedUntil - queued.getTime();
      const took = start === null ? null : end - start;
      const title = [
        `${step}, attempt ${a.attempt}: ${a.outcome}`,
        waited === null
          ? null
          : `waited ${ms(waited)}${a.retryAt ? ` (backoff until ${iso(a.retryAt)})` : ""}`,
        took === null ? null : `${open ? "running for" : "took"} ${ms(took)}`,
        a.worker ? `worker ${a.worker}` : null,
        a.error ? `error: ${a.error}` : null,
      ]
        .filter((l) => l !== null)
        .join("\n");
      const wait =
        queued === null
          ? ""
          : html`<rect
              class="wait${start === null ? " a-queued" : ""}"
              x="${x(queued.getTime()).toFixed(1)}"
              y="${y + 9}"
              width="${Math.max(1, x(waitedUntil) - x(queued.getTime())).toFixed(1)}"
              height="6"
            />`;
      const bar =
        start === null
          ? ""
          : html`<rect
              class="bar"
              x="${x(start).toFixed(1)}"
              y="${y + 4}"
              width="${Math.max(2, x(end) - x(start)).toFixed(1)}"
              height="16"
              rx="3"
            />`;
      return html`<g
        class="attempt a-${a.outcome}${open ? " open" : ""}"
        data-step="${step}"
        data-attempt="${a.attempt}"
        data-outcome="${a.outcome}"
        data-ms="${took ?? waited ?? 0}"
        ${open ? html` data-open` : ""}
        >${wait}${bar}<title>${title}</title></g
      >`;
    });
    return html`<g class="row"
      ><text class="label" x="4" y="${y + 16}">${step}</text
      ><line
        class="lane"
        x1="${labelWidth}"
        x2="${labelWidth + chartWidth}"
        y1="${y + rowHeight}"
        y2="${y + rowHeight}"
      />${bars}</g
    >`;
  });
  const width = labelWidth + chartWidth + 40;
  return html`<svg
    class="gantt"
    id="gantt"
    viewBox="0 0 ${width} ${height}"
    width="${width}"
    height="${height}"
    role="img"
    aria-label="attempts over time"
  >
    ${ticks}${rows}
  </svg>`;
}

/** 0 and every multiple of a round step (1, 2 or 5 × 10^k ms) up to span: at most 5 ticks. */
function niceTicks(span: number): number[] {
  const raw = span / 4;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((m) => m >= raw) ?? raw;
  const ticks: number[] = [];
  for (let t = 0; t <= span + 1e-9; t += step) ticks.push(t);
  return ticks;
}

/** What the bars' colours mean. */
export const ganttLegend = html`<p class="legend muted">
  <span class="key a-succeeded"></span> succeeded <span class="key a-retried"></span> failed,
  retried <span class="key a-failed"></span> failed <span class="key a-running"></span> running
  (dashed: open) <span class="key a-cancelled"></span> cancelled
  <span class="key wait"></span> waited (queued or backoff)
</p>`;

const iso = (d: Date) => d.toISOString().replace("T", " ").slice(0, 19);

function first(attempts: readonly AttemptRow[], step: string): number {
  let min = Infinity;
  for (const a of attempts) {
    if (a.step !== step) continue;
    const t = (a.queuedAt ?? a.startedAt ?? a.endedAt ?? a.now).getTime();
    if (t < min) min = t;
  }
  return min;
}
