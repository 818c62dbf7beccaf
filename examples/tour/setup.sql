create table public.signups (
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

select rowflow.attach('public.signups', 'welcome');
