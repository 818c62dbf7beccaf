create table orders (
  id     bigint generated always as identity primary key,
  status text not null default 'new',
  total  numeric not null
);

select rowflow.define_workflow('order-paid', '{
  "steps": [
    { "name": "charge", "task": "charge-card" },
    { "name": "ship",   "task": "ship-order", "dependsOn": ["charge"] }
  ]
}');

select rowflow.attach('orders', 'order-paid',
  events          => '{insert,update}',
  "when"          => $$new.status = 'paid' and old.status is distinct from 'paid'$$,
  input           => $$jsonb_build_object('orderId', new.id, 'total', new.total)$$,
  idempotency_key => $$'order-paid:' || new.id$$);

insert into orders (status, total) values ('new', 10), ('paid', 25);
update orders set status = 'paid' where total = 10;

select id, workflow, input, status from rowflow.runs where workflow = 'order-paid' order by id;
select table_name, workflow, events, when_sql from rowflow.attachments where workflow = 'order-paid';
