-- tenants.settings holds the hidden list (the phones and JIDs of hidden contacts) and the intake
-- privacy policy. Until now every member could read it through tenants_select, so an agent could
-- list exactly the people hidden from them, and an admin could rewrite the hidden list directly,
-- skipping the immediate purge. From here on API users read and update only a tenant's id, name
-- and creation time; the hidden list changes only through hide_contact / unhide_contact (which
-- purge), and owners and admins read it through private.hidden_list. The service role keeps
-- full access.
revoke select, insert, update, delete, truncate, references, trigger on public.tenants from anon, authenticated;
grant select (id, name, created_at) on public.tenants to authenticated;
grant update (name) on public.tenants to authenticated;

-- The tenant's hidden contacts for owners and admins: the subjects (with their forms and when
-- they were hidden) and the flat list the intake gate reads.
create or replace function private.hidden_list(p_tenant uuid) returns jsonb
language plpgsql stable security definer set search_path = '' as $$
begin
  perform private.assert_privacy_admin(p_tenant);
  return (
    select jsonb_build_object(
      'subjects', coalesce(t.settings -> 'hidden_subjects', '{}'::jsonb),
      'flat', coalesce(t.settings -> 'hidden_contacts', '[]'::jsonb))
    from public.tenants t where t.id = p_tenant
  );
end;
$$;
revoke all on function private.hidden_list(uuid) from public, anon;
grant execute on function private.hidden_list(uuid) to authenticated, service_role;
