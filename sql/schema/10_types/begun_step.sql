-- A step attempt a gate call began (rowflow._begin, sql/schema/60_gate/_begin.sql);
-- o is the call's position in the batch.
create type rowflow.begun_step as (o int, run_id bigint, step text, kind text, attempt int, max_attempts int);
