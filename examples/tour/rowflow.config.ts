import { defineConfig, defineTask, sql } from "rowflow";
import { z } from "zod";

// The attachment's default run input: the inserted row, plus where it came from.
const signup = z.object({ row: z.object({ id: z.number(), email: z.string() }) });

export default defineConfig({
  tasks: [
    defineTask("send-welcome-email", { input: signup }, async (ctx) => {
      // Pass ctx.idempotencyKey to your mail API: it is the same on every retry.
      ctx.logger.info(`welcome mail to ${ctx.input.row.email}`, { key: ctx.idempotencyKey });
      return { sentTo: ctx.input.row.email };
    }),
    defineTask("mark-welcomed", { input: signup }, async (ctx) => {
      // Written through ctx.tx: commits together with the step's completion.
      await sql`update public.signups set welcomed_at = now() where id = ${ctx.input.row.id}`.execute(
        ctx.tx,
      );
      return { welcomed: ctx.input.row.id };
    }),
  ],
});
