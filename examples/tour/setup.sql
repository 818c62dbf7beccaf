create table if not exists public.signups (
  id bigint generated always as identity primary key,
  email text not null,
  welcomed_at timestamptz
);

select rowflow.define_workflow('welcome', '{
  "steps": [
    { "name": "send-email", "task": "send-welcome-email", "attempts": 5 },
    { "name": "mark-welcomed", "task": "mark-welcomed", "dependsOn": ["send-email"] }
  ]
}');

-- attach refuses a second attachment for the same events (RF035), so only once:
select rowflow.attach('public.signups', 'welcome')
 where not exists (select from rowflow.attachments
                    where table_name = 'public.signups'::regclass and workflow = 'welcome');
