// The inbox: GET /conversations with filters and search, kept current by the tenant topic.

import type { ConversationSummary, MessagePayload, SearchHit } from '../../../types'
import type { Params } from '../api'
import type { Ctx } from '../context'
import { h, markedSnippet, replace } from '../dom'
import { isIntent, isPriority, isSentiment, isUrgency, kindWord, PRIORITIES, phone, problem, when } from '../words'
import { priorityPill, slaBadge } from './parts'

const PREVIEW_CHARS = 160

export class InboxList {
  readonly el: HTMLElement
  private items: ConversationSummary[] = []
  private nextCursor: string | null = null
  private selected: string | null = null
  private searching = false
  private readonly list = h('ul', { class: 'conversations', 'aria-labelledby': 'inbox-title' })
  private readonly status = h('p', { class: 'list-status', role: 'status' })
  private readonly more = h('button', { type: 'button', class: 'more', hidden: true }, 'Carregar mais conversas')
  private readonly filters: HTMLFormElement
  private readonly searchForm: HTMLFormElement

  constructor(private readonly ctx: Ctx) {
    this.filters = this.filterForm()
    this.searchForm = this.searchBox()
    this.el = h(
      'section',
      { class: 'inbox', 'aria-labelledby': 'inbox-title' },
      h('h1', { id: 'inbox-title' }, 'Conversas'),
      this.searchForm,
      this.filters,
      this.status,
      this.list,
      this.more,
    )
    this.more.addEventListener('click', () => void this.load(true))
    const topic = ctx.live.tenant
    topic.on('message_created', (m) => void this.onMessage(m))
    topic.on('conversation_updated', (c) => {
      this.patch(c.id, (s) => ({ ...s, priority: c.priority, sla_due_at: c.sla_due_at, status: c.status, sla_breached: breached(c.sla_due_at) }))
    })
    topic.on('conversation_deleted', (d) => this.remove(d.id))
    topic.on('conversation_merged', (m) => {
      this.remove(m.id)
      void this.refresh(m.merged_into)
    })
    topic.on('analysis_ready', (a) => {
      const { sentiment, intent, urgency, priority } = a
      if (!isSentiment(sentiment) || !isIntent(intent) || !isUrgency(urgency) || !isPriority(priority)) return
      this.patch(a.conversation_id, (s) => ({
        ...s,
        analysis: { sentiment, intent, urgency, priority },
        priority,
        sla_due_at: a.sla_due_at,
        sla_breached: breached(a.sla_due_at),
      }))
    })
    topic.on('lead_scored', (l) => {
      if (l.conversation_id) this.patch(l.conversation_id, (s) => (s.lead ? { ...s, lead: { ...s.lead, score: l.score, stage: l.status } } : s))
    })
    void this.load(false)
  }

  select(id: string | null): void {
    this.selected = id
    if (id) this.patch(id, (s) => ({ ...s, unread_count: 0 }))
    else this.render()
  }

  remove(id: string): void {
    this.items = this.items.filter((s) => s.id !== id)
    this.render()
  }

  /** Reload one conversation (after a send or a merge) and put it where its activity says. */
  async refresh(id: string): Promise<void> {
    try {
      const detail = await this.ctx.api.conversation(id)
      const summary: ConversationSummary = { ...detail, unread_count: id === this.selected ? 0 : detail.unread_count }
      this.items = this.items.filter((s) => s.id !== id)
      if (this.matches(summary)) this.items.push(summary)
      this.render()
    } catch {
      this.remove(id) // gone (hidden, merged) or not ours
    }
  }

  private params(): Params {
    const form = new FormData(this.filters)
    const value = (name: string): string | undefined => (form.get(name) as string | null) || undefined
    return { priority: value('priority'), sla: value('sla'), unread: value('unread'), instance_id: value('instance_id') }
  }

  private async load(more: boolean): Promise<void> {
    this.searching = false
    this.status.textContent = 'Carregando…'
    try {
      const page = await this.ctx.api.conversations({ ...this.params(), cursor: more ? (this.nextCursor ?? undefined) : undefined })
      this.items = more ? [...this.items, ...page.items] : page.items
      this.nextCursor = page.next_cursor
      this.render()
    } catch (error) {
      this.status.textContent = problem(error)
    }
  }

  private async onMessage(m: MessagePayload): Promise<void> {
    const known = this.items.find((s) => s.id === m.conversation_id)
    if (!known) return this.refresh(m.conversation_id)
    const preview = (m.body ?? m.media?.caption ?? kindWord(m.kind))?.slice(0, PREVIEW_CHARS) ?? null
    const unread = m.direction === 'in' && m.conversation_id !== this.selected ? Math.min(known.unread_count + 1, 999) : known.unread_count
    this.patch(m.conversation_id, (s) => ({
      ...s,
      last_message: { id: m.id, direction: m.direction, kind: m.kind, preview, occurred_at: m.occurred_at },
      last_activity_at: Date.parse(m.occurred_at) > Date.parse(s.last_activity_at) ? m.occurred_at : s.last_activity_at,
      unread_count: unread,
    }))
  }

  private patch(id: string, change: (s: ConversationSummary) => ConversationSummary): void {
    this.items = this.items.map((s) => (s.id === id ? change(s) : s))
    this.render()
  }

  private matches(s: ConversationSummary): boolean {
    const p = this.params()
    if (p.priority && s.priority !== p.priority) return false
    if (p.instance_id && s.instance_id !== p.instance_id) return false
    if (p.unread && s.unread_count === 0) return false
    if (p.sla === 'breached' && !breached(s.sla_due_at)) return false
    if (p.sla === 'due_soon' && !(s.sla_due_at && !breached(s.sla_due_at) && Date.parse(s.sla_due_at) - Date.now() < 3_600_000)) return false
    return true
  }

  private render(): void {
    if (this.searching) return
    this.items.sort(newestFirst)
    replace(this.list, this.items.map((s) => this.row(s)))
    this.status.textContent = this.items.length ? `${this.items.length} conversa(s)` : 'Nenhuma conversa com estes filtros.'
    this.more.hidden = !this.nextCursor
  }

  private row(s: ConversationSummary): HTMLLIElement {
    const name = s.contact.display_name ?? phone(s.contact.phone)
    const last = s.last_message
    const selected = s.id === this.selected
    return h(
      'li',
      { class: `conversation${s.unread_count ? ' unread' : ''}${selected ? ' selected' : ''}`, 'data-conversation-id': s.id },
      h(
        'a',
        { href: this.ctx.href(`conversa/${s.id}`), 'aria-current': selected ? 'true' : null },
        h('span', { class: 'line' }, h('span', { class: 'name' }, name), h('time', { datetime: s.last_activity_at }, when(s.last_activity_at))),
        h('span', { class: 'preview' }, last ? `${last.direction === 'out' ? 'Você: ' : ''}${last.preview ?? kindWord(last.kind)}` : ''),
        h(
          'span',
          { class: 'line meta' },
          priorityPill(s.priority),
          slaBadge(s.sla_due_at),
          s.lead?.score !== null && s.lead?.score !== undefined ? h('span', { class: 'score' }, `Lead ${s.lead.score}`) : null,
          s.unread_count ? h('span', { class: 'badge' }, String(s.unread_count), h('span', { class: 'sr-only' }, ' não lidas')) : null,
        ),
      ),
    )
  }

  private filterForm(): HTMLFormElement {
    const select = (name: string, label: string, options: [string, string][]): HTMLElement =>
      h('label', {}, `${label} `, h('select', { name }, options.map(([value, text]) => h('option', { value }, text))))
    const form = h(
      'form',
      { class: 'filters', 'aria-label': 'Filtros' },
      select('priority', 'Prioridade', [['', 'Todas'], ...Object.entries(PRIORITIES).reverse()] as [string, string][]),
      select('sla', 'SLA', [
        ['', 'Todos'],
        ['breached', 'Estourado'],
        ['due_soon', 'Vence em até 1 h'],
      ]),
      this.ctx.instances.length > 1
        ? select('instance_id', 'Instância', [['', 'Todas'], ...this.ctx.instances.map((i): [string, string] => [i.id, i.gateway_instance])])
        : null,
      h('label', {}, h('input', { type: 'checkbox', name: 'unread', value: 'true' }), ' Só não lidas'),
    )
    form.addEventListener('change', () => void this.load(false))
    form.addEventListener('submit', (e) => e.preventDefault())
    return form
  }

  private searchBox(): HTMLFormElement {
    const input = h('input', { type: 'search', name: 'q', id: 'search-q', maxlength: 200, autocomplete: 'off' })
    const clear = h('button', { type: 'button', hidden: true }, 'Limpar busca')
    const form = h(
      'form',
      { role: 'search', class: 'search' },
      h('label', { for: 'search-q' }, 'Buscar nas mensagens'),
      h('span', { class: 'row' }, input, h('button', { type: 'submit' }, 'Buscar'), clear),
    )
    form.addEventListener('submit', async (e) => {
      e.preventDefault()
      const q = input.value.trim()
      if (!q) return
      this.searching = true
      clear.hidden = false
      this.more.hidden = true
      this.status.textContent = 'Buscando…'
      try {
        const page = await this.ctx.api.search(q)
        replace(this.list, page.items.map((hit) => this.hitRow(hit)))
        this.status.textContent = page.items.length ? `${page.items.length} mensagem(ns) encontrada(s)` : 'Nada encontrado.'
      } catch (error) {
        this.status.textContent = problem(error)
      }
    })
    clear.addEventListener('click', () => {
      input.value = ''
      clear.hidden = true
      void this.load(false)
    })
    return form
  }

  private hitRow(hit: SearchHit): HTMLLIElement {
    const c = hit.conversation
    return h(
      'li',
      { class: 'conversation hit', 'data-conversation-id': c.id },
      h(
        'a',
        { href: this.ctx.href(`conversa/${c.id}`) },
        h('span', { class: 'line' }, h('span', { class: 'name' }, c.contact.display_name ?? phone(c.contact.phone)), h('time', { datetime: hit.message.occurred_at }, when(hit.message.occurred_at))),
        h('span', { class: 'preview' }, markedSnippet(hit.message.snippet)),
      ),
    )
  }
}

/** The API's order: last activity, then id, both descending. */
function newestFirst(a: ConversationSummary, b: ConversationSummary): number {
  const at = Date.parse(b.last_activity_at) - Date.parse(a.last_activity_at)
  return at !== 0 ? at : a.id < b.id ? 1 : a.id > b.id ? -1 : 0
}

function breached(due: string | null): boolean {
  return due !== null && Date.parse(due) <= Date.now()
}
