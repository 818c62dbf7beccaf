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

/** Orders above this total (in cents) wait for a manager's approval. */
export const reviewThresholdCents = 50_000;

/** The group the approval tasks are assigned to (a manager completes them with this group). */
export const managersGroup = "managers";

/** The payload of the payment provider's "payment-confirmed" signal. */
export const paymentConfirmed = z.object({
  provider: z.string(),
  reference: z.string(),
  amountCents: z.number().int(),
});

/** A manager's answer to an approval task: its JSON Schema is the task's form. */
export const approvalAnswer = z.object({
  approved: z.boolean(),
  note: z.string().max(200).optional(),
});
