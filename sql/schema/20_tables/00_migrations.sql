-- rowflow.migrations: the files of sql/migrations applied to this database.
-- The migrator (src/db/migrate.ts) applies each file in its own transaction,
-- under a session advisory lock, and records it here with the SHA-256 of its
-- bytes, so that a file edited after it was applied is refused instead of
-- silently diverging.
create table rowflow.migrations (
  name text primary key,
  checksum text not null,
  applied_at timestamptz not null default now(),
  constraint name_is_valid check (name ~ '^\d{6}_[a-z0-9_]+\.sql$'),
  constraint checksum_is_sha256 check (checksum ~ '^[0-9a-f]{64}$')
);
select rowflow._allow('table rowflow.migrations', '{app,worker,operator,viewer}');
