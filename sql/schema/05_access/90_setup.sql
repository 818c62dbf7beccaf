-- The roles, the schema's USAGE, and the access decisions of the access
-- helpers themselves (the other objects decide in their own files).
select rowflow._setup_roles();
select rowflow._allow('schema rowflow', '{app,worker,operator,viewer}');
select rowflow._allow('table rowflow.roles', '{viewer}');
select rowflow._allow('table rowflow.secrets', '{}');
select rowflow._allow('function rowflow._secret()', '{}');
select rowflow._allow('function rowflow._mac(bytea, text)', '{}');
select rowflow._allow('function rowflow._allow(text, text[], text)', '{}');
select rowflow._allow('function rowflow._role(text)', '{}');
select rowflow._allow('function rowflow._may(text, name)', '{app,worker,operator,viewer}');
select rowflow._allow('function rowflow._setup_roles()', '{}');
select rowflow._allow('function rowflow._trusted()', '{}');
select rowflow._allow('function rowflow._require(text[])', '{}');
select rowflow._allow('function rowflow._lease(bytea, bigint, text, int)', '{}');
select rowflow._allow('function rowflow._check_worker(text, text)', '{}');
select rowflow._allow('function rowflow._grant_graphile()', '{}');
select rowflow._grant_graphile();
