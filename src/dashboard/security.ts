// What protects the dashboard's actions (docs/dashboard.md, "Security"):
// a CSRF token in every form and POST, the Origin of a POST matching the
// host, a token (`--token`) when bound beyond localhost, and a configured
// operator connection (`--operator-url`) whose role is a rowflow operator
// (the SQL checks that too; the dashboard says so before trying).
import { randomBytes, timingSafeEqual } from "node:crypto";

export const isLoopback = (host: string) =>
  host === "127.0.0.1" || host === "::1" || host === "localhost" || host.startsWith("127.");

export interface Guard {
  csrf: string;
  /** The token actions need, or null (localhost without --token). */
  token: string | null;
  /** Why actions are refused whatever the request carries, or null. */
  actionsOff: string | null;
}

export function makeGuard(args: {
  host: string;
  token: string | null;
  /** Whether the operator connection's role may act; "none": no operator connection. */
  operator: boolean | "none";
}): Guard {
  let actionsOff: string | null = null;
  if (args.operator === "none") {
    actionsOff = "no operator connection is configured (--operator-url), so actions are off";
  } else if (!args.operator) {
    actionsOff =
      "the operator connection's role is not a rowflow operator (rowflow_operator), so actions are off";
  } else if (!isLoopback(args.host) && args.token === null) {
    actionsOff = `bound to ${args.host} (beyond localhost) without --token, so actions are off`;
  }
  return { csrf: randomBytes(24).toString("hex"), token: args.token, actionsOff };
}

export const same = (a: string | undefined | null, b: string) => {
  if (typeof a !== "string") return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

type PostFacts = {
  csrf: string | undefined;
  origin: string | undefined;
  host: string | undefined;
  token: string | undefined;
};

/**
 * The reason a read-only POST (the designer's check and export, which any
 * role may use) is refused: only the CSRF token and the Origin count.
 */
export function csrfRefusal(guard: Guard, req: Omit<PostFacts, "token">): string | null {
  if (!same(req.csrf, guard.csrf)) return "missing or wrong CSRF token";
  if (req.origin !== undefined && req.origin !== "null") {
    let originHost: string;
    try {
      originHost = new URL(req.origin).host;
    } catch {
      return "bad Origin header";
    }
    if (originHost !== req.host) return "cross-origin POST";
  }
  return null;
}

/** The reason a POST is refused (403), or null when it may act. */
export function refusal(guard: Guard, req: PostFacts): string | null {
  const bad = csrfRefusal(guard, req);
  if (bad !== null) return bad;
  if (guard.actionsOff !== null) return guard.actionsOff;
  if (guard.token !== null && !same(req.token, guard.token)) return "missing or wrong token";
  return null;
}
