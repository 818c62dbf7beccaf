// A rowflow.config.ts for `rowflow worker`, `rowflow dev` and
// `rowflow generate-migration` (default export, or a named export `config`).
import { defineConfig, defineTask } from "rowflow";
import { z } from "zod";

import { orderPaid } from "./workflow.js";

// A handler for a step defined in SQL (rowflow.define_workflow).
const sendWelcomeEmail = defineTask(
  "send-welcome-email",
  { input: z.object({ row: z.object({ email: z.string() }) }) },
  async (ctx) => ({ sentTo: ctx.input.row.email }),
);

export default defineConfig({
  tasks: [sendWelcomeEmail],
  workflows: [orderPaid],
  worker: { concurrency: 8, heartbeatTimeout: 30_000 },
});
