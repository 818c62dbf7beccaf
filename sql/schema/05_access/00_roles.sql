-- rowflow.roles: the names of rowflow's four group roles in this database
-- (app, worker, operator, viewer), written once by rowflow._setup_roles
-- (sql/schema/05_access/22_setup_roles.sql). Everything that grants or checks
-- a role looks its name up here, so a role prefix needs no other change.
create table rowflow.roles (
  kind text primary key,
  name name not null unique,
  constraint kind_is_valid check (kind in ('app', 'worker', 'operator', 'viewer'))
);
comment on table rowflow.roles is
  'The names of rowflow''s group roles in this database, by kind (app, worker, operator, viewer).';
