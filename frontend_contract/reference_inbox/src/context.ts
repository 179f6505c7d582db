// What every screen gets: the API, the live topics, who is signed in and how to move around.

import type { InstanceSummary, Me, Membership } from '../../types'
import type { Api } from './api'
import type { Live } from './realtime'

export interface Ctx {
  api: Api
  live: Live
  me: Me
  membership: Membership
  isAdmin: boolean
  instances: InstanceSummary[]
  /** Texts to put in a conversation's reply box when it opens (a deep link's reminder). */
  prefill: Map<string, string>
  /** A path under the page's base (`''`, `conversa/<id>`, `admin/diagnosticos`...); `replace` keeps history as it was. */
  navigate(path: string, options?: { replace?: boolean }): void
  href(path: string): string
}

/** A screen: its element, and what to undo when it leaves the screen. */
export interface View {
  el: HTMLElement
  dispose(): void
}
