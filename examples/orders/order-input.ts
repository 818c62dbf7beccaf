import { z } from "zod";

/**
 * The run input an INSERT into shop.orders produces: rowflow's default input
 * for an attachment is the row as JSON plus where it came from.
 */
export const orderRowInput = z.object({
  table: z.literal("orders"),
  op: z.enum(["insert", "update", "delete"]),
  row: z.object({
    id: z.number(),
    customer: z.string(),
    email: z.string(),
    sku: z.string(),
    quantity: z.number(),
    total_cents: z.number(),
    status: z.string(),
  }),
});

export type OrderRow = z.infer<typeof orderRowInput>["row"];

/** Orders above this total (in cents) take the manual-review path. */
export const reviewThresholdCents = 50_000;
