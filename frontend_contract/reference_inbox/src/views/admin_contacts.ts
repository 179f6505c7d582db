// Admins: "Ocultar do CRM" by number (with the confirmation that says what is deleted), and the
// hidden list with "Reexibir".

import type { HiddenContact } from '../../../types'
import type { Ctx, View } from '../context'
import { h, replace } from '../dom'
import { fullTime, problem } from '../words'
import { confirmHide, deletedReport } from './parts'

export class AdminContacts implements View {
  readonly el: HTMLElement
  private readonly list = h('ul', { class: 'hidden-list', 'aria-labelledby': 'hidden-title' })
  private readonly status = h('p', { role: 'status' })

  constructor(private readonly ctx: Ctx) {
    const number = h('input', { type: 'tel', id: 'hide-phone', name: 'phone', autocomplete: 'off', required: true })
    const form = h(
      'form',
      { class: 'hide-form' },
      h('label', { for: 'hide-phone' }, 'Número a ocultar'),
      number,
      h('button', { type: 'submit', class: 'danger' }, 'Ocultar do CRM…'),
    )
    form.addEventListener('submit', async (e) => {
      e.preventDefault()
      const phone = number.value.trim()
      if (!phone) return
      const result = await confirmHide(ctx.api, { phone }, phone)
      if (!result) return
      number.value = ''
      this.status.textContent = deletedReport(result)
      await this.load(false)
    })
    this.el = h(
      'section',
      { class: 'page admin', 'aria-labelledby': 'contacts-title' },
      h('h1', { id: 'contacts-title' }, 'Contatos ocultos'),
      h('p', {}, 'Um contato oculto some do CRM: tudo o que havia dele é apagado e as mensagens novas dele não são guardadas.'),
      form,
      this.status,
      h('h2', { id: 'hidden-title' }, 'Ocultos agora'),
      this.list,
    )
    void this.load(true)
  }

  dispose(): void {}

  private async load(announce: boolean): Promise<void> {
    try {
      const hidden = await this.ctx.api.hidden()
      replace(this.list, hidden.contacts.length ? hidden.contacts.map((c) => this.row(c)) : h('li', {}, 'Nenhum contato oculto.'))
      if (announce) this.status.textContent = `${hidden.contacts.length} contato(s) oculto(s)`
    } catch (error) {
      this.status.textContent = problem(error)
    }
  }

  private row(contact: HiddenContact): HTMLLIElement {
    const unhide = h('button', { type: 'button' }, 'Reexibir')
    unhide.addEventListener('click', async () => {
      unhide.disabled = true
      try {
        await this.ctx.api.unhide({ phone: contact.key })
        this.status.textContent = 'Contato reexibido: as próximas mensagens dele voltam a ser guardadas (o que foi apagado não volta).'
        await this.load(false)
      } catch (error) {
        this.status.textContent = problem(error)
        unhide.disabled = false
      }
    })
    return h(
      'li',
      { 'data-hidden': contact.key },
      h('span', {}, contact.key),
      contact.hidden_at ? h('span', { class: 'hint' }, ` · oculto em ${fullTime(contact.hidden_at)}`) : null,
      ' ',
      unhide,
    )
  }
}
