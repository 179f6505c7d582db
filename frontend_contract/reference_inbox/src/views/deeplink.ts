// A marketing deep link, `<inbox>/link?<query>`: the conversation with the reminder text in the reply
// box, or -- for a number never talked to -- a virtual one with the ERP card; nothing is stored
// until the agent sends.

import type { DeepLinkResolved } from '../../../types'
import type { Ctx, View } from '../context'
import { h, replace } from '../dom'
import { phone, problem } from '../words'
import { newIdempotencyKey } from './keys'
import { customerCard } from './parts'

export class DeepLinkView implements View {
  readonly el = h('section', { class: 'page deeplink', 'aria-labelledby': 'link-title' }, h('h1', { id: 'link-title' }, 'Link de campanha'), h('p', { role: 'status' }, 'Abrindo o link…'))

  constructor(
    private readonly ctx: Ctx,
    query: string,
  ) {
    void this.resolve(query)
  }

  dispose(): void {}

  private async resolve(query: string): Promise<void> {
    try {
      const link = await this.ctx.api.resolveDeepLink(query)
      const id = link.conversation.id
      if (!link.conversation.virtual && id) {
        this.ctx.prefill.set(id, link.prefilled_text)
        this.ctx.navigate(`conversa/${id}`, { replace: true }) // Back does not land on the link again
        return
      }
      this.virtual(link)
    } catch (error) {
      replace(this.el, h('h1', { id: 'link-title' }, 'Link de campanha'), h('p', { role: 'alert', class: 'error' }, problem(error)))
    }
  }

  private virtual(link: DeepLinkResolved): void {
    const instances = link.conversation.instance_ids ?? []
    const reply = h('textarea', { id: 'first-message', rows: 3, maxlength: 4096 })
    reply.value = link.prefilled_text
    const status = h('p', { role: 'status' })
    const send = h('button', { type: 'submit' }, 'Enviar e abrir a conversa')
    const choose = h(
      'select',
      { id: 'link-instance' },
      instances.map((id) => h('option', { value: id }, this.ctx.instances.find((i) => i.id === id)?.gateway_instance ?? id)),
    )
    const form = h(
      'form',
      { class: 'composer' },
      instances.length > 1 ? [h('label', { for: 'link-instance' }, 'Enviar pela instância'), choose] : null,
      h('label', { for: 'first-message' }, 'Primeira mensagem'),
      reply,
      h('p', { class: 'hint' }, 'Nada é guardado nem enviado até você clicar em Enviar.'),
      h('div', { class: 'actions' }, send),
      status,
    )
    let attempt: { key: string; text: string } | null = null
    form.addEventListener('submit', async (e) => {
      e.preventDefault()
      const text = reply.value.trim()
      if (!text) return
      const key = attempt?.text === text ? attempt.key : newIdempotencyKey()
      attempt = { key, text }
      send.disabled = true
      status.textContent = 'Enviando…'
      try {
        const sent = await this.ctx.api.start({ phone: link.phone_e164, instance_id: choose.value || instances[0] || null, text, idempotency_key: key })
        if (sent.status === 202 || !sent.body.conversation_id) {
          status.textContent = 'O WhatsApp não confirmou o envio a tempo. Clique em Enviar de novo para conferir, sem risco de duplicar.'
          return
        }
        this.ctx.navigate(`conversa/${sent.body.conversation_id}`)
      } catch (error) {
        status.textContent = problem(error)
      } finally {
        send.disabled = false
      }
    })
    const who = link.conversation.contact.display_name ?? link.customer?.name ?? phone(link.phone_e164)
    replace(
      this.el,
      h('h1', { id: 'link-title' }, `Nova conversa com ${who}`),
      h('p', {}, `${phone(link.phone_e164)} · ainda sem conversa neste WhatsApp`, link.signed ? ' · link assinado pela empresa' : ' · link sem assinatura'),
      customerCard(link.customer),
      form,
    )
  }
}
