import { Logger } from "graphile-worker";

/** A graphile-worker logger that only passes on warnings and errors (to stderr). */
export const quietGraphileLogger = new Logger(() => (level, message) => {
  if (level === "error" || level === "warning") console.error(`[graphile-worker] ${message}`);
});
