/**
 * The short text of a transition, from its stored event's data (the shapes
 * the SQL functions write into rowflow.events: sql/schema/60_gate/,
 * sql/schema/85_operate/): an error's message and when the next attempt
 * starts, a cancel's reason, why a step was skipped, an operator's retry.
 * Null when the transition says nothing more than its type.
 */
export function transitionDetail(type: string, data: unknown): string | null {
  if (!data || typeof data !== "object") return null;
  const d = data as Record<string, unknown>;
  const reason = text(d.reason);
  switch (type) {
    case "step_retrying": {
      const message = errorText(d.error);
      const next = typeof d.nextAttempt === "number" ? `attempt ${d.nextAttempt}` : "next attempt";
      const at = text(d.retryAt);
      return [message, at ? `${next} at ${at}` : null].filter(Boolean).join("; ") || null;
    }
    case "step_failed":
    case "run_failed":
    case "run_compensating":
      return errorText(d.error);
    case "step_skipped":
      if (typeof d.if === "string") return `condition ${d.if} was false`;
      return join(text(d.status) && `by ${text(d.by) ?? "an operator"}`, reason);
    case "step_cancelled":
    case "run_cancelled":
      return reason;
    case "run_retried":
      return join(text(d.mode) && `mode ${text(d.mode)}`, reason);
    case "run_rerun":
      return join(
        d.rerunOf !== undefined
          ? `rerun of run ${String(d.rerunOf)} from ${text(d.step) ?? "?"}`
          : null,
        reason,
      );
    case "step_started":
      return d.redelivery === true ? "redelivered" : null;
    default:
      return null;
  }
}

/** The first line of an error's message (at most 200 characters), from `{message}` or `{error: {message}}`. */
function errorText(error: unknown): string | null {
  if (!error || typeof error !== "object") return text(error);
  const e = error as { message?: unknown; error?: unknown };
  if (typeof e.message === "string") return firstLine(e.message);
  return errorText(e.error);
}

const firstLine = (s: string) => s.split("\n")[0]!.slice(0, 200) || null;
const text = (v: unknown) => (typeof v === "string" && v !== "" ? firstLine(v) : null);

function join(...parts: Array<string | null | false | undefined>): string | null {
  return parts.filter(Boolean).join(": ") || null;
}
