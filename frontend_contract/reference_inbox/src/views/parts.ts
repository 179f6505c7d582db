// Pieces shared by the screens: pills, the SLA countdown, analysis chips, the lead and ERP cards,
// and the hide confirmation.

import type { ContactRef, CustomerCard, HideResult, Priority, StoredScoreParts } from '../../../types'
import type { Api } from '../api'
import { append, h } from '../dom'
import {
  INTENTS,
  isIntent,
  isSentiment,
  isUrgency,
  PRIORITIES,
  problem,
  SENTIMENTS,
  sla,
  SOURCES,
  STAGES,
  triageWord,
  URGENCIES,
} from '../words'

export function priorityPill(priority: Priority): HTMLElement {
  return h('span', { class: `pill prio-${priority}`, 'data-priority': priority }, `Prioridade ${PRIORITIES[priority]}`)
}

/** The SLA countdown; `tickSla` (every second, from the shell) keeps every one on screen current. */
export function slaBadge(dueIso: string | null): HTMLElement {
  if (!dueIso) return h('span', { class: 'sla none' }, 'Sem SLA')
  const el = h('span', { class: 'sla', 'data-sla-due': dueIso })
  renderSla(el, dueIso)
  return el
}

export function tickSla(root: ParentNode = document): void {
  for (const el of root.querySelectorAll<HTMLElement>('[data-sla-due]')) renderSla(el, el.dataset.slaDue ?? '')
}

function renderSla(el: HTMLElement, dueIso: string): void {
  const state = sla(dueIso)
  if (el.textContent !== state.text) el.textContent = state.text
  el.classList.toggle('breached', state.breached)
}

export interface Labels {
  sentiment: string
  intent: string
  urgency: string
}

export function analysisChips(labels: Labels): HTMLElement {
  const sentiment = isSentiment(labels.sentiment) ? SENTIMENTS[labels.sentiment] : labels.sentiment
  const intent = isIntent(labels.intent) ? INTENTS[labels.intent] : labels.intent
  const urgency = isUrgency(labels.urgency) ? URGENCIES[labels.urgency] : labels.urgency
  return h(
    'ul',
    { class: 'chips', 'aria-label': 'Análise da mensagem' },
    h('li', { class: `chip sentiment-${labels.sentiment}`, 'data-chip': 'sentiment' }, `Sentimento: ${sentiment}`),
    h('li', { class: 'chip', 'data-chip': 'intent' }, `Intenção: ${intent}`),
    h('li', { class: `chip urgency-${labels.urgency}`, 'data-chip': 'urgency' }, `Urgência: ${urgency}`),
  )
}

export interface LeadInfo {
  stage: keyof typeof STAGES
  score: number | null
  source: string
  returning_customer: boolean
  score_parts: StoredScoreParts | null
}

export function leadCard(lead: LeadInfo | null): HTMLElement {
  const card = h('section', { class: 'card lead-card', 'aria-labelledby': 'lead-title' }, h('h3', { id: 'lead-title' }, 'Lead'))
  if (!lead) return h('section', { class: 'card lead-card' }, h('h3', {}, 'Lead'), h('p', {}, 'Sem lead para este contato.'))
  const parts = lead.score_parts
  card.append(
    h(
      'p',
      { class: 'score' },
      h('strong', { 'data-lead-score': lead.score ?? '' }, lead.score === null ? 'sem pontuação' : `${lead.score}/100`),
      ` · ${STAGES[lead.stage]} · origem: ${SOURCES[lead.source] ?? lead.source}`,
      lead.returning_customer ? ' · já é cliente' : '',
    ),
  )
  if (parts) {
    append(
      card,
      h(
        'dl',
        { class: 'score-parts', 'aria-label': 'Composição da pontuação' },
        h('dt', {}, 'Intenção'),
        h('dd', {}, `+${parts.intent} (${isIntent(parts.intent_label) ? INTENTS[parts.intent_label] : parts.intent_label})`),
        h('dt', {}, 'Sentimento'),
        h('dd', {}, `+${parts.sentiment} (${SENTIMENTS[parts.sentiment_label]})`),
        h('dt', {}, 'Engajamento'),
        h('dd', {}, `+${parts.engagement} (${parts.inbound_messages} mensagens${parts.replied_to_agent ? ', respondeu ao atendente' : ''})`),
        h('dt', {}, 'Total'),
        h('dd', {}, String(parts.total)),
      ),
      parts.triage.length ? h('p', { class: 'triage' }, `Triagem: ${parts.triage.map(triageWord).join('; ')}`) : null,
    )
  }
  return card
}

export function customerCard(customer: CustomerCard | null): HTMLElement {
  if (!customer) return h('section', { class: 'card erp-card' }, h('h3', {}, 'Cliente no ERP'), h('p', {}, 'Nenhum cadastro do ERP com este número.'))
  return h(
    'section',
    { class: 'card erp-card', 'data-customer': customer.external_id },
    h('h3', {}, 'Cliente no ERP'),
    customer.photo_url ? h('img', { src: customer.photo_url, alt: '', width: 48, height: 48 }) : null,
    h('p', {}, h('strong', {}, customer.name), ` · código ${customer.external_id}`),
    h(
      'dl',
      { class: 'sales' },
      Object.entries(customer.sales_summary).flatMap(([key, value]) => [h('dt', {}, key.replace(/_/g, ' ')), h('dd', {}, String(value ?? '—'))]),
    ),
  )
}

const TABLE_WORDS: Record<string, string> = {
  'public.messages': 'mensagens',
  'public.conversations': 'conversas',
  'public.contacts': 'contatos',
  'public.contact_aliases': 'números e apelidos do contato',
  'public.leads': 'leads',
  'public.message_analyses': 'análises',
  'public.reply_suggestions': 'sugestões de resposta',
  'public.analysis_corrections': 'correções de análise',
  'public.conversation_reads': 'marcas de leitura',
  'public.outbound_messages': 'envios',
  'realtime.messages': 'eventos em tempo real',
}

export function deletedReport(result: HideResult): string {
  const counts = Object.entries(result.deleted?.counts ?? {}).filter(([, n]) => n > 0)
  const listed = counts.map(([table, n]) => `${TABLE_WORDS[table] ?? table}: ${n}`).join(', ')
  return `Contato ocultado. Apagados ${result.deleted?.total ?? 0} registros${listed ? ` (${listed})` : ''}.`
}

/**
 * "Ocultar do CRM" after a confirmation that says what is deleted; resolves with the purge report,
 * or null when the user cancels. The API refuses anyone but owners and admins.
 */
export function confirmHide(api: Api, ref: ContactRef, who: string): Promise<HideResult | null> {
  return new Promise((resolve) => {
    const status = h('p', { role: 'alert', class: 'error' })
    const confirm = h('button', { type: 'button', class: 'danger' }, 'Ocultar e apagar')
    const cancel = h('button', { type: 'button' }, 'Cancelar')
    const dialog = h(
      'dialog',
      { class: 'confirm', 'aria-labelledby': 'hide-title', 'aria-describedby': 'hide-what' },
      h('h2', { id: 'hide-title' }, `Ocultar ${who} do CRM?`),
      h(
        'div',
        { id: 'hide-what' },
        h('p', {}, 'Isto apaga agora, sem volta, tudo o que o CRM guarda desta pessoa, em todas as formas do número dela (com e sem o 9º dígito):'),
        h(
          'ul',
          {},
          h('li', {}, 'o contato e os números e apelidos dele'),
          h('li', {}, 'todas as conversas e mensagens'),
          h('li', {}, 'as análises, sugestões de resposta e correções'),
          h('li', {}, 'o lead e a pontuação'),
          h('li', {}, 'marcas de leitura, envios e os eventos em tempo real já emitidos'),
        ),
        h(
          'p',
          {},
          'Depois disso, novas mensagens desta pessoa são descartadas na chegada, até alguém reexibi-la. ',
          'A auditoria guarda quem ocultou e quantos registros foram apagados, nunca o número nem o conteúdo.',
        ),
      ),
      status,
      h('div', { class: 'actions' }, cancel, confirm),
    )
    const close = (result: HideResult | null): void => {
      dialog.close()
      dialog.remove()
      resolve(result)
    }
    cancel.addEventListener('click', () => close(null))
    dialog.addEventListener('cancel', () => close(null))
    confirm.addEventListener('click', async () => {
      confirm.disabled = true
      try {
        close(await api.hide(ref))
      } catch (error) {
        status.textContent = problem(error)
        confirm.disabled = false
      }
    })
    document.body.append(dialog)
    dialog.showModal()
    cancel.focus()
  })
}

