select id, workflow, status from rowflow.runs where workflow = 'welcome';
select step, status, attempt, output from rowflow.step_runs
 where run_id = (select max(id) from rowflow.runs where workflow = 'welcome') order by step;
select email, welcomed_at is not null as welcomed from public.signups;
