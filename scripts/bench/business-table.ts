import { query } from "./pg-client.js";

/** The business table every write scenario inserts into, and the rows of one insert. */
export const createBusinessTable = `
  create table public.bench_orders (
    id bigint generated always as identity primary key,
    customer text not null,
    total_cents int not null,
    created_at timestamptz not null default now()
  )`;

export const insertOneOrder = `insert into public.bench_orders (customer, total_cents) values ('customer-' || (random() * 1000)::int, (random() * 10000)::int);`;

/** A naive per-row trigger that calls graphile_worker.add_job (NOTIFY on every call). */
export const naiveTrigger = `
  create function public.tg_bench_orders__naive() returns trigger language plpgsql
  set search_path to '' as $$
  begin
    perform graphile_worker.add_job('noop', json_build_object('order_id', new.id));
    return null;
  end $$;
  create trigger _500_naive after insert on public.bench_orders
    for each row execute function public.tg_bench_orders__naive();`;

export async function execute(url: string, sql: string, values: unknown[] = []): Promise<void> {
  await query(url, sql, values);
}
