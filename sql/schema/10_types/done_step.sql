-- A (run, step) that succeeded or was skipped, and the gate call it came from
-- (`origin`: the call's position in a batched complete_steps). Input of
-- rowflow._release (sql/schema/60_gate/_release.sql).
create type rowflow.done_step as (run_id bigint, step text, origin int);
