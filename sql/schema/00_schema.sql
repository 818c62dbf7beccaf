-- The rowflow schema. rowflow keeps everything it owns here; graphile-worker
-- keeps its own in `graphile_worker`, whose migrations run first
-- (src/db/migrate.ts), because rowflow's functions write its job tables.
create schema if not exists rowflow;

comment on schema rowflow is 'rowflow: database-centric workflow orchestration';
