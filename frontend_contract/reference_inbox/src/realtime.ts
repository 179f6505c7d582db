// The tenant's private realtime topics with the official supabase-js client, as
// frontend_contract/README.md shows: the anon key, the user's JWT from the accessToken callback,
// setAuth() before joining, and every payload typed by the generated topic maps.

import { createClient, type RealtimeChannel, type SupabaseClient } from '@supabase/supabase-js'
import type { TenantAdminTopicEvents, TenantTopicEvents } from '../../types'

export interface StackConfig {
  supabase_url: string
  anon_key: string
}

type Listener<T> = (payload: T) => void
export type LiveState = 'connecting' | 'live' | 'error' | 'closed'

/** One private topic; views add and remove typed listeners while they are on screen. */
export class Topic<Events extends object> {
  private readonly listeners = new Map<keyof Events, Set<Listener<never>>>()
  private channel: RealtimeChannel | null = null

  constructor(
    private readonly name: string,
    private readonly onState: (state: LiveState, detail?: string) => void,
  ) {}

  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    const set = this.listeners.get(event) ?? new Set()
    set.add(listener as Listener<never>)
    this.listeners.set(event, set)
    return () => set.delete(listener as Listener<never>)
  }

  join(client: SupabaseClient): void {
    this.onState('connecting')
    this.channel = client
      .channel(this.name, { config: { private: true } })
      .on('broadcast', { event: '*' }, ({ event, payload }) => {
        for (const listener of this.listeners.get(event as keyof Events) ?? []) (listener as Listener<unknown>)(payload)
      })
      .on('system', {}, (message: { status?: string; message?: string }) => {
        if (message.status === 'error') this.onState('error', message.message)
      })
      .subscribe((status, err) => {
        if (status === 'SUBSCRIBED') this.onState('live')
        else if (status === 'CHANNEL_ERROR' || status === 'TIMED_OUT') this.onState('error', err?.message)
        else if (status === 'CLOSED') this.onState('closed')
      })
  }

  async leave(client: SupabaseClient): Promise<void> {
    if (this.channel) await client.removeChannel(this.channel)
    this.channel = null
  }
}

export class Live {
  readonly client: SupabaseClient
  readonly tenant: Topic<TenantTopicEvents>
  readonly admin: Topic<TenantAdminTopicEvents> | null

  constructor(
    config: StackConfig,
    token: () => string,
    tenantId: string,
    isAdmin: boolean,
    onState: (state: LiveState, detail?: string) => void,
  ) {
    this.client = createClient(config.supabase_url, config.anon_key, { accessToken: async () => token() })
    this.tenant = new Topic(`tenant:${tenantId}`, onState)
    this.admin = isAdmin ? new Topic(`tenant:${tenantId}:admin`, () => undefined) : null
  }

  async start(): Promise<void> {
    await this.client.realtime.setAuth() // the token first, or the join would be anonymous
    this.tenant.join(this.client)
    this.admin?.join(this.client)
  }
}
