// One conversation: history (newest at the bottom, older pages by cursor as the agent scrolls up),
// analysis chips, the lead and ERP cards, the reply box with the suggestion (sent only when the
// agent presses Enviar), delivery ticks from realtime, and "Ocultar do CRM" for admins.

import type { AnalysisBrief, ConversationDetail, MessageView, SendState, SuggestionView } from '../../../types'
import { ApiError } from '../api'
import type { Ctx, View } from '../context'
import { h, replace } from '../dom'
import { DELIVERY, fullTime, kindWord, phone, problem, when } from '../words'
import type { InboxList } from './inbox'
import { analysisChips, confirmHide, customerCard, deletedReport, type LeadInfo, leadCard, type Labels, priorityPill, slaBadge } from './parts'
import { newIdempotencyKey } from './keys'

const PAGE = 30

interface Shown {
  id: string
  direction: 'in' | 'out'
  kind: string
  body: string | null
  status: string | null
  occurred_at: string
  caption: string | null
  analysis: Labels | null
  send: SendState | null
}

export class ConversationView implements View {
  readonly el: HTMLElement
  private readonly head = h('header', { class: 'conv-head' })
  private readonly scroller = h('div', { class: 'history-wrap', tabindex: 0, role: 'region', 'aria-label': 'Histórico de mensagens' })
  private readonly older = h('button', { type: 'button', class: 'older', hidden: true }, 'Carregar mensagens anteriores')
  private readonly history = h('ol', { class: 'history' })
  private readonly cards = h('aside', { class: 'cards', 'aria-label': 'Lead e cliente' })
  private readonly reply = h('textarea', { id: 'reply', name: 'reply', rows: 3, maxlength: 4096 })
  private readonly hint = h('p', { id: 'reply-hint', class: 'hint' }, 'Nada é enviado sem você: revise o texto e clique em Enviar.')
  private readonly sendButton = h('button', { type: 'submit' }, 'Enviar')
  private readonly discardButton = h('button', { type: 'button', hidden: true }, 'Descartar sugestão')
  private readonly notice = h('p', { class: 'notice', role: 'status' })
  private readonly shown = new Map<string, { data: Shown; el: HTMLLIElement }>()
  private readonly observer: IntersectionObserver
  private readonly offs: (() => void)[] = []
  private detail: ConversationDetail | null = null
  private lead: LeadInfo | null = null
  private nextCursor: string | null = null
  private loadingOlder = false
  private suggestion: SuggestionView | null = null
  private attempt: { key: string; text: string } | null = null
  private readTimer: number | undefined
  private disposed = false

  constructor(
    private readonly ctx: Ctx,
    private readonly id: string,
    private readonly inbox: InboxList,
  ) {
    this.reply.setAttribute('aria-describedby', 'reply-hint')
    const composer = h(
      'form',
      { class: 'composer', 'aria-label': 'Responder' },
      h('label', { for: 'reply' }, 'Resposta'),
      this.reply,
      this.hint,
      h('div', { class: 'actions' }, this.discardButton, this.sendButton),
    )
    composer.addEventListener('submit', (e) => {
      e.preventDefault()
      void this.send()
    })
    this.reply.addEventListener('input', () => {
      if (this.suggestion && !this.reply.value.trim()) this.useSuggestion(null)
    })
    this.discardButton.addEventListener('click', () => void this.discard())
    this.older.addEventListener('click', () => void this.loadOlder())
    this.scroller.append(this.older, this.history)
    this.el = h(
      'article',
      { class: 'conversation-view', 'data-conversation': id, 'aria-labelledby': 'conv-title' },
      this.head,
      this.notice,
      h('div', { class: 'conv-body' }, h('div', { class: 'thread' }, this.scroller, composer), this.cards),
    )
    // Backward infinite scroll: the "older" button at the top loads the previous page when it scrolls into view.
    this.observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) void this.loadOlder()
    }, { root: this.scroller })
    this.listen()
    void this.open()
  }

  dispose(): void {
    this.disposed = true
    this.observer.disconnect()
    for (const off of this.offs) off()
    window.clearTimeout(this.readTimer)
  }

  private async open(): Promise<void> {
    try {
      const [detail, page] = await Promise.all([this.ctx.api.conversation(this.id), this.ctx.api.messages(this.id, null, PAGE)])
      this.detail = detail
      this.lead = detail.lead
      this.renderHead()
      this.renderCards()
      for (const m of [...page.items].reverse()) this.add(fromView(m), 'end')
      this.nextCursor = page.next_cursor
      this.older.hidden = !this.nextCursor
      this.scroller.scrollTop = this.scroller.scrollHeight
      this.observer.observe(this.older)
      const prefill = this.ctx.prefill.get(this.id)
      this.ctx.prefill.delete(this.id)
      if (prefill) this.reply.value = prefill
      else this.useSuggestion(newest(detail.suggestions))
      this.markRead()
    } catch (error) {
      this.closed(problem(error))
    }
  }

  private listen(): void {
    const topic = this.ctx.live.tenant
    this.offs.push(
      topic.on('message_created', (m) => {
        if (m.conversation_id !== this.id) return
        const nearBottom = this.scroller.scrollHeight - this.scroller.scrollTop - this.scroller.clientHeight < 80
        this.add({ ...m, caption: m.media?.caption ?? null, analysis: null, send: null }, 'end')
        if (nearBottom || m.direction === 'out') this.scroller.scrollTop = this.scroller.scrollHeight
        if (m.direction === 'in') this.markRead()
      }),
      topic.on('message_updated', (m) => {
        const known = this.shown.get(m.id)
        if (known) this.update(m.id, { ...known.data, status: m.status, body: m.body, kind: m.kind })
      }),
      topic.on('analysis_ready', (a) => {
        if (a.conversation_id !== this.id) return
        const known = this.shown.get(a.message_id)
        if (known) this.update(a.message_id, { ...known.data, analysis: { sentiment: a.sentiment, intent: a.intent, urgency: a.urgency } })
        if (this.lead) this.lead = { ...this.lead, score: a.score, score_parts: a.score_parts }
        if (this.detail && (a.priority === 'low' || a.priority === 'medium' || a.priority === 'high' || a.priority === 'critical'))
          this.detail = { ...this.detail, priority: a.priority, sla_due_at: a.sla_due_at }
        this.renderHead()
        this.renderCards()
      }),
      topic.on('suggestion_ready', (s) => {
        if (s.conversation_id !== this.id || s.outcome !== null) return
        const untouched = !this.reply.value.trim() || (this.suggestion !== null && this.reply.value === this.suggestion.text)
        if (untouched) this.useSuggestion({ id: s.id, text: s.text, created_at: s.created_at, message_id: s.message_id })
      }),
      topic.on('conversation_updated', (c) => {
        if (c.id !== this.id || !this.detail) return
        this.detail = { ...this.detail, priority: c.priority, sla_due_at: c.sla_due_at }
        this.renderHead()
      }),
      topic.on('conversation_merged', (m) => {
        // the same person's other thread now holds these messages: show that one
        if (m.id === this.id) this.ctx.navigate(`conversa/${m.merged_into}`, { replace: true })
      }),
      topic.on('conversation_deleted', (d) => {
        if (d.id !== this.id) return
        // a merge announces the deletion too: its conversation_merged gets a moment to move us on
        window.setTimeout(() => {
          if (!this.disposed) this.closed('Esta conversa foi apagada: o contato foi ocultado ou teve os dados apagados.')
        }, 500)
      }),
    )
  }

  private renderHead(): void {
    const d = this.detail
    if (!d) return
    const name = d.contact.display_name ?? phone(d.contact.phone)
    const hide = this.ctx.isAdmin ? h('button', { type: 'button', class: 'danger' }, 'Ocultar do CRM') : null
    hide?.addEventListener('click', () => void this.hide(name))
    replace(
      this.head,
      h('h2', { id: 'conv-title' }, name),
      h('p', { class: 'phone' }, phone(d.contact.phone)),
      h('p', { class: 'line meta' }, priorityPill(d.priority), slaBadge(d.sla_due_at)),
      hide,
    )
  }

  private renderCards(): void {
    replace(this.cards, leadCard(this.lead), customerCard(this.detail?.customer ?? null))
  }

  private add(m: Shown, where: 'start' | 'end'): void {
    if (this.shown.has(m.id)) return this.update(m.id, { ...m, analysis: m.analysis ?? this.shown.get(m.id)?.data.analysis ?? null })
    const el = messageItem(m)
    this.shown.set(m.id, { data: m, el })
    if (where === 'end') this.history.append(el)
    else this.history.prepend(el)
  }

  private update(id: string, data: Shown): void {
    const known = this.shown.get(id)
    if (!known) return
    const el = messageItem(data)
    known.el.replaceWith(el)
    this.shown.set(id, { data, el })
  }

  private async loadOlder(): Promise<void> {
    if (!this.nextCursor || this.loadingOlder) return
    this.loadingOlder = true
    try {
      const page = await this.ctx.api.messages(this.id, this.nextCursor, PAGE)
      const fromBottom = this.scroller.scrollHeight - this.scroller.scrollTop
      for (const m of page.items) this.add(fromView(m), 'start')
      this.scroller.scrollTop = this.scroller.scrollHeight - fromBottom // the agent stays where they were
      this.nextCursor = page.next_cursor
      this.older.hidden = !this.nextCursor
    } catch (error) {
      this.notice.textContent = problem(error)
    } finally {
      this.loadingOlder = false
    }
  }

  private useSuggestion(s: SuggestionView | null): void {
    this.suggestion = s
    this.discardButton.hidden = s === null
    if (s) {
      this.reply.value = s.text
      this.hint.textContent = 'Sugestão de resposta: edite à vontade. Nada é enviado sem você clicar em Enviar.'
    } else {
      this.hint.textContent = 'Nada é enviado sem você: revise o texto e clique em Enviar.'
    }
  }

  private async discard(): Promise<void> {
    const s = this.suggestion
    if (!s) return
    this.reply.value = ''
    this.useSuggestion(null)
    try {
      await this.ctx.api.discardSuggestion(s.id)
    } catch (error) {
      this.notice.textContent = problem(error)
    }
  }

  private async send(): Promise<void> {
    const text = this.reply.value.trim()
    if (!text) {
      this.notice.textContent = 'Escreva uma mensagem antes de enviar.'
      return
    }
    // One idempotency key per message the agent decides to send, reused when retrying the same text.
    const key = this.attempt?.text === text ? this.attempt.key : newIdempotencyKey()
    this.attempt = { key, text }
    this.sendButton.disabled = true
    this.notice.textContent = 'Enviando…'
    try {
      const sent = await this.ctx.api.send(this.id, { text, idempotency_key: key, suggestion_id: this.suggestion?.id ?? null })
      if (sent.status === 202) {
        this.notice.textContent = 'O WhatsApp não confirmou o envio a tempo. Ele pode ter saído: clique em Enviar de novo para conferir, sem risco de duplicar.'
        return
      }
      this.attempt = null
      this.reply.value = ''
      this.useSuggestion(null)
      this.notice.textContent = ''
      const id = sent.body.message_id
      if (id && !this.shown.has(id)) {
        this.add({ id, direction: 'out', kind: 'text', body: text, status: 'pending', occurred_at: new Date().toISOString(), caption: null, analysis: null, send: null }, 'end')
      }
      this.scroller.scrollTop = this.scroller.scrollHeight
    } catch (error) {
      // A definite refusal needs a new key next time; an unknown outcome (no answer) keeps it.
      if (error instanceof ApiError && error.status !== 0) this.attempt = null
      this.notice.textContent = problem(error)
    } finally {
      this.sendButton.disabled = false
    }
  }

  private async hide(name: string): Promise<void> {
    const d = this.detail
    if (!d) return
    const result = await confirmHide(this.ctx.api, { contact_id: d.contact.id }, name)
    if (!result) return
    this.inbox.remove(this.id)
    this.closed(deletedReport(result))
  }

  private markRead(): void {
    window.clearTimeout(this.readTimer)
    this.readTimer = window.setTimeout(() => {
      this.ctx.api.markRead(this.id).then(() => this.inbox.select(this.id), () => undefined)
    }, 300)
  }

  private closed(message: string): void {
    this.dispose()
    replace(this.el, h('section', { class: 'page' }, h('p', { role: 'status', class: 'notice' }, message), h('a', { href: this.ctx.href('') }, 'Voltar à caixa de entrada')))
  }
}

function fromView(m: MessageView): Shown {
  const caption = typeof m.media?.caption === 'string' ? m.media.caption : null
  return { ...m, caption, analysis: m.analysis ? labels(m.analysis) : null }
}

const labels = (a: AnalysisBrief): Labels => ({ sentiment: a.sentiment, intent: a.intent, urgency: a.urgency })

function newest(suggestions: SuggestionView[]): SuggestionView | null {
  return suggestions.reduce<SuggestionView | null>((best, s) => (!best || s.created_at > best.created_at ? s : best), null)
}

function messageItem(m: Shown): HTMLLIElement {
  const text = m.kind === 'text' ? m.body : [kindWord(m.kind), m.caption ?? m.body].filter(Boolean).join(': ')
  const delivery = m.status ? DELIVERY[m.status] : undefined
  return h(
    'li',
    { class: `message ${m.direction === 'in' ? 'inbound' : 'outbound'}`, 'data-message-id': m.id },
    h('p', { class: 'body' }, text ?? ''),
    h(
      'p',
      { class: 'meta' },
      h('time', { datetime: m.occurred_at, title: fullTime(m.occurred_at) }, when(m.occurred_at)),
      m.direction === 'out' && delivery
        ? h('span', { class: `ticks status-${m.status}`, 'data-status': m.status, title: delivery.label }, h('span', { 'aria-hidden': 'true' }, delivery.ticks), h('span', { class: 'sr-only' }, delivery.label))
        : null,
    ),
    m.direction === 'in' && m.analysis ? analysisChips(m.analysis) : null,
    m.send?.status === 'failed' ? h('p', { class: 'error' }, `Não enviada: ${problem(new ApiError(0, m.send.error_code ?? 'internal_error', ''))}`) : null,
  )
}
