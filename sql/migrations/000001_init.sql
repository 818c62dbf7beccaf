-- 000001_init: the rowflow schema and the table that records applied migrations.
--
-- rowflow keeps everything it owns in the `rowflow` schema (graphile-worker
-- keeps its own in `graphile_worker`). The migrator (src/db/migrate.ts) applies
-- each file of sql/migrations in its own transaction, under an advisory lock,
-- and records it here with the SHA-256 of its bytes, so that an edited file that
-- was already applied is refused instead of silently diverging.

create schema if not exists rowflow;

comment on schema rowflow is 'rowflow: database-centric workflow orchestration';

create table rowflow.migrations (
  name text primary key,
  checksum text not null,
  applied_at timestamptz not null default now(),
  constraint name_is_valid check (name ~ '^\d{6}_[a-z0-9_]+\.sql$'),
  constraint checksum_is_sha256 check (checksum ~ '^[0-9a-f]{64}$')
);
