// `rowflow dashboard` as a user runs it: it prints its URL, serves the pages
// as a viewer (saying on stderr that actions are off), and a SIGINT ends it
// by that signal (exit 130 in a shell), as `worker` and `tail` do.
import { expect, it } from "vitest";

import { useTestDatabase } from "../helpers/db.js";
import { useLoginRoles } from "../helpers/roles.js";
import { startCli } from "../helpers/run-cli.js";
import { waitFor } from "../helpers/wait-for.js";

const db = useTestDatabase();
const loginRole = useLoginRoles(db);

it("prints its URL, serves the runs page to a viewer, and ends by SIGINT", async () => {
  const viewer = await loginRole("viewer", { memberOf: ["rowflow_viewer"] });
  const cli = startCli(["dashboard", "--port", "0", "--database-url", viewer.url]);
  try {
    const url = await waitFor(
      () => /rowflow dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(cli.out.stdout)?.[1],
      { message: () => `no URL printed; stderr: ${cli.out.stderr}` },
    );
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("<h1>Runs</h1>");
    expect(cli.out.stderr).toContain(
      "read-only: no operator connection is configured (--operator-url)",
    );
  } finally {
    cli.child.kill("SIGINT");
  }
  expect(await cli.exited).toEqual({ code: null, signal: "SIGINT" });
});
