-- What rowflow._release decided for one dependent.
create type rowflow.released_step as (
  origin   int,
  run_id   bigint,
  step     text,
  status   text,       -- pending | queued | running (taken) | skipped | reserved (queued, leased)
  context  jsonb       -- the handler context of a taken step; {runId, step, attempt, priority} of a reserved one
);
