insert into public.signups (email) values ('ada@example.com');
