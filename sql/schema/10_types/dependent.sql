-- A dependent of steps completed in one gate call: n of its dependencies
-- finished, origin = the (last) call they came from.
create type rowflow.dependent as (origin int, run_id bigint, step text, n int);
