-- The e-mail addresses of a tenant's members, for GET /agents. The query joined auth.users as the
-- service role, which has no privilege on it (here, and on Supabase, where auth.* belongs to
-- supabase_auth_admin): every call answered 500. A security-definer function owned by the
-- migration's role reads the one column, for the members of one tenant only.
create or replace function private.member_emails(p_tenant uuid)
returns table (user_id uuid, email text)
language sql stable security definer set search_path = '' as $$
  select u.id, u.email::text from public.memberships m join auth.users u on u.id = m.user_id
  where m.tenant_id = p_tenant
$$;

revoke all on function private.member_emails(uuid) from public, anon, authenticated;
grant execute on function private.member_emails(uuid) to service_role;
