// Admins: each WhatsApp instance's session, reconnect and "reset total", and the QR code to scan
// when a reset publishes one (instance_qr_updated on the admins' topic).

import qrcode from 'qrcode-generator'
import type { InstanceSummary, InstanceView, QrView } from '../../../types'
import type { Ctx, View } from '../context'
import { h, replace } from '../dom'
import { fullTime, problem } from '../words'

const STATUS_WORDS: Record<string, string> = {
  connected: 'conectada',
  open: 'conectada',
  connecting: 'conectando',
  qr_pending: 'aguardando leitura do QR code',
  not_logged: 'desconectada (sessão encerrada)',
  closed: 'desconectada',
  unknown: 'desconhecido',
}

type Qr = Pick<QrView, 'qr_code' | 'qr_image' | 'pairing_code' | 'generated_at'>
const CONNECTED = new Set(['open', 'connected'])

export class AdminInstances implements View {
  readonly el: HTMLElement
  private readonly cards = new Map<string, HTMLElement>()
  // The last QR code seen per instance: shown until the instance is connected again (the status
  // check after a reset says "connecting" while the gateway waits for the scan, with no QR).
  private readonly lastQr = new Map<string, Qr>()
  private readonly offs: (() => void)[] = []

  constructor(private readonly ctx: Ctx) {
    this.el = h(
      'section',
      { class: 'page admin', 'aria-labelledby': 'inst-title' },
      h('h1', { id: 'inst-title' }, 'Instâncias do WhatsApp'),
      ctx.instances.length ? null : h('p', {}, 'Nenhuma instância cadastrada.'),
      ctx.instances.map((i) => this.card(i)),
    )
    const admin = ctx.live.admin
    if (admin) {
      this.offs.push(
        admin.on('instance_qr_updated', (q) => {
          this.lastQr.set(q.instance_id, q)
          this.showQr(q.instance_id, q)
        }),
        admin.on('instance_status_changed', (s) => void this.refresh(s.id)),
      )
    }
  }

  dispose(): void {
    for (const off of this.offs) off()
  }

  private card(instance: InstanceSummary): HTMLElement {
    const el = h('section', { class: 'card instance', 'data-instance': instance.id, 'aria-label': `Instância ${instance.gateway_instance}` }, h('p', {}, 'Carregando…'))
    this.cards.set(instance.id, el)
    void this.refresh(instance.id)
    return el
  }

  private async refresh(id: string): Promise<void> {
    try {
      this.render(await this.ctx.api.instanceStatus(id))
    } catch (error) {
      const el = this.cards.get(id)
      if (el) replace(el, h('p', { role: 'alert', class: 'error' }, problem(error)))
    }
  }

  private render(view: InstanceView): void {
    const el = this.cards.get(view.instance_id)
    if (!el) return
    const status = h('p', { role: 'status', class: 'action-status' })
    const act = (label: string, run: () => Promise<InstanceView>, confirmText?: string): HTMLButtonElement => {
      const button = h('button', { type: 'button' }, label)
      button.addEventListener('click', async () => {
        if (confirmText && !window.confirm(confirmText)) return
        button.disabled = true
        status.textContent = 'Aguarde…'
        try {
          this.render(await run())
        } catch (error) {
          status.textContent = problem(error)
          button.disabled = false
        }
      })
      return button
    }
    const r = view.recovery
    replace(
      el,
      h('h2', {}, `${view.gateway_instance} (${view.provider === 'evolution' ? 'Evolution API' : 'WPPConnect'})`),
      h('p', {}, 'Situação: ', h('strong', { 'data-instance-status': view.status }, STATUS_WORDS[view.status] ?? view.status)),
      h('p', { class: 'hint' }, `Recuperação: ${r.phase} · ${r.reconnects} reconexões · ${r.resets} resets${r.last_reason ? ` · último motivo: ${r.last_reason}` : ''}`),
      h('div', { class: 'qr-slot' }),
      h(
        'div',
        { class: 'actions' },
        act('Reconectar', () => this.ctx.api.reconnect(view.instance_id)),
        act('Reset total (novo QR code)', () => this.ctx.api.reset(view.instance_id), 'Encerrar a sessão do WhatsApp desta instância e gerar um novo QR code? Ela fica sem enviar e receber até alguém ler o QR code.'),
      ),
      status,
    )
    if (view.qr) this.lastQr.set(view.instance_id, view.qr)
    if (CONNECTED.has(view.status)) this.lastQr.delete(view.instance_id)
    const qr = this.lastQr.get(view.instance_id)
    if (qr) this.showQr(view.instance_id, qr)
  }

  private showQr(instanceId: string, qr: Qr): void {
    const slot = this.cards.get(instanceId)?.querySelector('.qr-slot')
    if (!slot) return
    const alt = 'QR code para conectar o WhatsApp desta instância'
    let image: HTMLImageElement | null = null
    if (qr.qr_code) {
      const code = qrcode(0, 'M')
      code.addData(qr.qr_code)
      code.make()
      image = h('img', { src: code.createDataURL(4, 8), alt, class: 'qr', 'data-qr': qr.qr_code })
    } else if (qr.qr_image?.startsWith('data:image/')) {
      image = h('img', { src: qr.qr_image, alt, class: 'qr' })
    }
    replace(
      slot,
      h('h3', {}, 'Conecte o WhatsApp'),
      h('p', {}, 'No celular: WhatsApp › Aparelhos conectados › Conectar um aparelho, e leia o código.'),
      image,
      qr.pairing_code ? h('p', {}, 'Ou use o código de pareamento: ', h('strong', { 'data-pairing-code': qr.pairing_code }, qr.pairing_code)) : null,
      h('p', { class: 'hint' }, `Gerado em ${fullTime(qr.generated_at)}`),
    )
  }
}
