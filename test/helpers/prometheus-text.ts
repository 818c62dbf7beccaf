/**
 * Reads Prometheus' text exposition format (what /metrics answers) into
 * samples, enough for tests: `name{label="value",…} number` lines, comments
 * skipped. Label values keep their escapes undone (\\, \", \n).
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const m of (match[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[m[1]!] = m[2]!.replace(/\\(["\\n])/g, (_, c: string) => (c === "n" ? "\n" : c));
    }
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The samples of one metric name whose labels include `labels`. */
export function samplesOf(
  samples: readonly Sample[],
  name: string,
  labels: Record<string, string> = {},
): Sample[] {
  return samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
}

/** The sum of the values of `samplesOf(…)` (0 when there is none). */
export function sumOf(
  samples: readonly Sample[],
  name: string,
  labels: Record<string, string> = {},
): number {
  return samplesOf(samples, name, labels).reduce((sum, s) => sum + s.value, 0);
}

/** `{ "<label value>": value }` of one metric, keyed by the given labels joined with "/". */
export function byLabels(
  samples: readonly Sample[],
  name: string,
  keys: readonly string[],
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samplesOf(samples, name)) {
    const key = keys.map((k) => s.labels[k] ?? "").join("/");
    out[key] = (out[key] ?? 0) + s.value;
  }
  return out;
}

/** GETs a /metrics URL and parses it; throws on a status other than 200. */
export async function scrape(url: string): Promise<Sample[]> {
  const response = await fetch(url);
  const text = await response.text();
  if (response.status !== 200) throw new Error(`GET ${url}: ${response.status} ${text}`);
  return parsePrometheusText(text);
}
