-- rowflow.step_maps: one row per map step of a run whose elements were
-- created (sql/schema/62_map/_map_start.sql), written under the run's lock.
-- The elements themselves are rows of rowflow.step_runs (kind 'element');
-- this row counts them down so that an element's completion decides in
-- O(1) whether it was the last one (counting the open elements at every
-- completion would be O(elements) each, O(n²) for the map). `open` is the
-- number of elements not finished yet (succeeded or failed for good; the
-- elements a failed or cancelled step cancelled stay counted as open);
-- `failed` those that failed for good (with "mapErrors": "collect" they end
-- up in the output; otherwise the first one fails the step). Purged with
-- its run.
create table rowflow.step_maps (
  run_id     bigint not null,
  step       text not null,               -- the map step (its row in step_runs, kind 'step')
  total      int not null,                -- elements created
  open       int not null,                -- elements not finished yet
  failed     int not null default 0,      -- elements failed for good
  created_at timestamptz not null,
  primary key (run_id, step),
  constraint counts_are_valid check (open between 0 and total and failed between 0 and total)
);
comment on table rowflow.step_maps is
  'Map steps of runs whose elements exist: how many, how many are still open, how many failed (sql/schema/62_map/). The elements are rowflow.step_runs rows of kind element.';
select rowflow._allow('table rowflow.step_maps', '{viewer}');
