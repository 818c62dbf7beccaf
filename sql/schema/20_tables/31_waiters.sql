-- rowflow.waiters: who waits for a wake-up, per channel, until an expiry.
-- Postgres serialises the commits of all transactions that queued a NOTIFY
-- (PreCommit_Notify holds one database-wide lock through the commit's WAL
-- flush): measured on 2 cores, 16 clients inserting single rows into an
-- attached table that NOTIFYs on every commit ran at ~0.05x the bare table.
-- So writers NOTIFY only while a row here is live (rowflow._wake_all,
-- sql/schema/80_wake/). Workers mark 'jobs:insert' when they run out of
-- work; live views (client waits, tail, dashboard) mark 'rowflow'. A crashed
-- waiter's row expires, so it cannot make every commit NOTIFY forever.
create table rowflow.waiters (
  id      text not null,
  channel text not null,
  until   timestamptz not null,
  primary key (channel, id),
  constraint channel_is_known check (channel in ('jobs:insert', 'rowflow')),
  constraint id_is_valid check (length(id) between 1 and 128)
);
comment on table rowflow.waiters is
  'Sessions waiting for a NOTIFY on channel (workers out of jobs: jobs:insert; live views: rowflow), until the expiry. Writers NOTIFY only when a row is live.';
select rowflow._allow('table rowflow.waiters', '{viewer}');
