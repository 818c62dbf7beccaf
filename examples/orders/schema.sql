-- examples/orders: the business tables of a small shop. Plain tables, owned by
-- the app; rowflow only attaches triggers to `orders`.
create schema if not exists shop;

create table if not exists shop.inventory (
  sku        text primary key,
  name       text not null,
  in_stock   int not null check (in_stock >= 0),
  reserved   int not null default 0 check (reserved >= 0)
);

create table if not exists shop.orders (
  id           bigint generated always as identity primary key,
  customer     text not null,
  email        text not null,
  sku          text not null,
  quantity     int not null check (quantity > 0),
  total_cents  int not null check (total_cents >= 0),
  status       text not null default 'new',
  review       text,
  created_at   timestamptz not null default now(),
  updated_at   timestamptz not null default now(),
  constraint status_is_valid check (status in
    ('new', 'validated', 'paid', 'shipped', 'rejected', 'failed', 'cancelled', 'refunded'))
);

create table if not exists shop.payments (
  id          bigint generated always as identity primary key,
  order_id    bigint not null references shop.orders (id),
  amount_cents int not null,
  status      text not null check (status in ('captured', 'refunded')),
  -- The step's idempotency key: a retried charge can never capture twice.
  charge_key  text not null unique,
  -- The payment provider's reference, from its payment-confirmed signal.
  reference   text,
  created_at  timestamptz not null default now(),
  refunded_at timestamptz
);

create table if not exists shop.shipments (
  id         bigint generated always as identity primary key,
  order_id   bigint not null unique references shop.orders (id),
  carrier    text not null,
  created_at timestamptz not null default now()
);

-- The sales report the shop-report schedule writes (examples/orders/report.ts).
create table if not exists shop.reports (
  id           bigint generated always as identity primary key,
  scheduled_at timestamptz not null unique,
  orders       int not null,
  shipped      int not null,
  revenue_cents int not null,
  created_at   timestamptz not null default now()
);

create table if not exists shop.emails (
  id         bigint generated always as identity primary key,
  order_id   bigint not null references shop.orders (id),
  kind       text not null,
  sent_at    timestamptz not null default now(),
  unique (order_id, kind)
);
