// The Workflows page's failure rate over time: for one workflow, a bar per
// bucket (an hour of the last 24 h by default), its height the runs created
// in it, split into succeeded (bottom), failed and the rest (cancelled or
// not finished, top), in SVG drawn on the server. The buckets come from one
// statement for every workflow (outcomesOverTime).
import { type Html, html } from "./html.js";
import type { OutcomeBucket } from "./workflow-queries.js";

/** The ranges the page offers: how far back, and the bucket width. */
export const ranges = {
  "24h": { back: 24 * 3_600_000, width: "1 hour", label: "last 24 h, hourly" },
  "7d": { back: 7 * 86_400_000, width: "6 hours", label: "last 7 days, 6-hourly" },
  "30d": { back: 30 * 86_400_000, width: "1 day", label: "last 30 days, daily" },
} as const;
export type RangeName = keyof typeof ranges;

const barWidth = 9;
const gap = 2;
const height = 44;

/** The first bucket's start: the range back from the end of the current bucket. */
export function rangeStart(name: RangeName, now: Date): Date {
  const r = ranges[name];
  const bucketMs = r.back / bucketCount(name);
  const end = Math.floor(now.getTime() / bucketMs) * bucketMs + bucketMs;
  return new Date(end - r.back);
}

const bucketCount = (name: RangeName) => ({ "24h": 24, "7d": 28, "30d": 30 })[name];

export function failureChart(
  name: RangeName,
  start: Date,
  buckets: readonly OutcomeBucket[],
  id: string,
): Html {
  const n = bucketCount(name);
  const bucketMs = ranges[name].back / n;
  const slots = Array.from({ length: n }, () => ({ succeeded: 0, failed: 0, other: 0 }));
  for (const b of buckets) {
    const i = Math.floor((b.bucket.getTime() - start.getTime()) / bucketMs);
    const slot = slots[i];
    if (slot === undefined) continue;
    slot.succeeded += b.succeeded;
    slot.failed += b.failed;
    slot.other += b.other;
  }
  const max = Math.max(1, ...slots.map((s) => s.succeeded + s.failed + s.other));
  const total = slots.reduce(
    (a, s) => ({ succeeded: a.succeeded + s.succeeded, failed: a.failed + s.failed }),
    { succeeded: 0, failed: 0 },
  );
  const bars = slots.map((s, i) => {
    const x = i * (barWidth + gap);
    const from = new Date(start.getTime() + i * bucketMs);
    const ended = s.succeeded + s.failed;
    const rate = ended === 0 ? "" : `, ${Math.round((100 * s.failed) / ended)}% failed`;
    let y = height;
    const part = (kind: string, count: number) => {
      if (count === 0) return "";
      const h = Math.max(1.5, (count / max) * (height - 2));
      y -= h;
      return html`<rect
        class="b-${kind}"
        data-n="${count}"
        x="${x}"
        y="${y.toFixed(1)}"
        width="${barWidth}"
        height="${h.toFixed(1)}"
      />`;
    };
    return html`<g
      class="bucket"
      data-bucket="${from.toISOString()}"
      data-failed="${s.failed}"
      data-succeeded="${s.succeeded}"
      ><rect
        class="slot"
        x="${x}"
        y="0"
        width="${barWidth}"
        height="${height}"
      />${part("succeeded", s.succeeded)}${part("failed", s.failed)}${part("other", s.other)}<title>
        ${stamp(from)}: ${s.succeeded} succeeded, ${s.failed} failed, ${s.other} other${rate}
      </title></g
    >`;
  });
  const ended = total.succeeded + total.failed;
  const width = n * (barWidth + gap);
  return html`<div class="failures" id="${id}">
    <svg
      class="failure-chart"
      viewBox="0 0 ${width} ${height}"
      width="${width}"
      height="${height}"
      role="img"
      aria-label="runs by outcome over time"
    >
      ${bars}
    </svg>
    <span class="muted"
      >${ranges[name].label}: ${total.failed} failed of ${ended}
      finished${ended === 0 ? "" : ` (${((100 * total.failed) / ended).toFixed(1)}%)`}</span
    >
  </div>`;
}

const stamp = (d: Date) => d.toISOString().replace("T", " ").slice(0, 16);
