-- rowflow._context(run_id, step, kind, attempt, …, lease, traceparent, tracestate, run_created_at) → a handler context
--
-- The object a worker hands to a step's handler (src/worker/ builds
-- ctx.input, ctx.deps, ctx.attempt, ctx.idempotencyKey … from it). The
-- idempotency key is the same on every attempt, so handlers can pass it to
-- external APIs (invariant 2). The lease token is the worker's proof that the
-- attempt is its own (complete_steps, fail_step). The run's trace context
-- and creation time are for the worker's spans (docs/observability.md,
-- "Traces"): the attempt's span is a child of the trace context, the run's
-- span starts at its creation. claim_runs, complete_steps and _begin build
-- the same object inline. plpgsql, not SQL: a SQL function that is not
-- inlined is planned on every call.
create or replace function rowflow._context(run_id bigint, step text, kind text, attempt int, max_attempts int,
  task text, workflow text, version int, input jsonb, deps jsonb, timeout interval, run_error jsonb, lease text,
  traceparent text, tracestate text, run_created_at timestamptz)
returns jsonb
language plpgsql immutable
set search_path to ''
as $$
#variable_conflict use_column
begin
  -- plpgsql, not sql: a non-inlined SQL function is planned on every call.
  return pg_catalog.jsonb_build_object(
    'ok', true,
    'runId', _context.run_id::text,
    'step', _context.step,
    'task', _context.task,
    'workflow', _context.workflow,
    'version', _context.version,
    'input', _context.input,
    'deps', coalesce(_context.deps, '{}'::jsonb),
    'attempt', _context.attempt,
    'maxAttempts', _context.max_attempts,
    'timeoutMs', (extract(epoch from _context.timeout) * 1000)::bigint,
    'idempotencyKey', 'rowflow:' || _context.run_id || ':' || _context.step,
    'kind', _context.kind,
    'runError', _context.run_error,
    'lease', _context.lease,
    'traceparent', _context.traceparent,
    'tracestate', _context.tracestate,
    'runCreatedAt', _context.run_created_at);
end;
$$;
select rowflow._allow('function rowflow._context(bigint, text, text, int, int, text, text, int, jsonb, jsonb, interval, jsonb, text, text, text, timestamptz)', '{}');
