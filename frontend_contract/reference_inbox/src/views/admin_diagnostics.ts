// Admins: the diagnostics log (every webhook and gateway call), filtered, newest first, by cursor.

import type { DiagnosticItem } from '../../../types'
import type { Params } from '../api'
import type { Ctx, View } from '../context'
import { h, replace } from '../dom'
import { fullTime, problem } from '../words'

const PAGE = 20
const OUTCOMES: [string, string][] = [
  ['', 'Todos'],
  ['accepted', 'Aceito'],
  ['ignored', 'Ignorado'],
  ['rejected', 'Rejeitado'],
  ['timeout', 'Sem resposta (timeout)'],
]

export class AdminDiagnostics implements View {
  readonly el: HTMLElement
  private readonly rows = h('tbody')
  private readonly status = h('p', { role: 'status' })
  private readonly more = h('button', { type: 'button', hidden: true }, 'Mais antigos')
  private readonly form: HTMLFormElement
  private cursor: string | null = null

  constructor(private readonly ctx: Ctx) {
    const instance = h('select', { name: 'instance_id', id: 'diag-instance' }, h('option', { value: '' }, 'Todas'), ctx.instances.map((i) => h('option', { value: i.id }, i.gateway_instance)))
    this.form = h(
      'form',
      { class: 'filters', 'aria-label': 'Filtros do diagnóstico' },
      h('label', { for: 'diag-instance' }, 'Instância'),
      instance,
      h('label', { for: 'diag-outcome' }, 'Resultado'),
      h('select', { name: 'outcome', id: 'diag-outcome' }, OUTCOMES.map(([v, t]) => h('option', { value: v }, t))),
      h('label', { for: 'diag-since' }, 'Desde'),
      h('input', { type: 'datetime-local', name: 'since', id: 'diag-since' }),
      h('label', { for: 'diag-until' }, 'Até'),
      h('input', { type: 'datetime-local', name: 'until', id: 'diag-until' }),
    )
    this.form.addEventListener('change', () => void this.load(false))
    this.form.addEventListener('submit', (e) => e.preventDefault())
    this.more.addEventListener('click', () => void this.load(true))
    this.el = h(
      'section',
      { class: 'page admin', 'aria-labelledby': 'diag-title' },
      h('h1', { id: 'diag-title' }, 'Diagnóstico'),
      h('p', {}, 'Cada webhook recebido e cada chamada ao gateway do WhatsApp, do mais recente ao mais antigo.'),
      this.form,
      this.status,
      h(
        'table',
        { class: 'diagnostics' },
        h('caption', { class: 'sr-only' }, 'Registro de diagnóstico'),
        h('thead', {}, h('tr', {}, ['Quando', 'Instância', 'Rota', 'Evento', 'Resultado', 'HTTP', 'Latência', 'Erro'].map((t) => h('th', { scope: 'col' }, t)))),
        this.rows,
      ),
      this.more,
    )
    void this.load(false)
  }

  dispose(): void {}

  private params(): Params {
    const data = new FormData(this.form)
    const text = (name: string): string | undefined => (data.get(name) as string | null) || undefined
    const time = (name: string): string | undefined => {
      const value = text(name)
      return value ? new Date(value).toISOString() : undefined
    }
    return { instance_id: text('instance_id'), outcome: text('outcome'), since: time('since'), until: time('until') }
  }

  private async load(more: boolean): Promise<void> {
    this.status.textContent = 'Carregando…'
    try {
      const page = await this.ctx.api.diagnostics({ ...this.params(), cursor: more ? (this.cursor ?? undefined) : undefined, limit: String(PAGE) })
      const rows = page.items.map((d) => this.row(d))
      if (more) this.rows.append(...rows)
      else replace(this.rows, rows)
      this.cursor = page.next_cursor
      this.more.hidden = !this.cursor
      this.status.textContent = `${this.rows.childElementCount} registro(s)${this.cursor ? ', há mais' : ''}`
    } catch (error) {
      this.status.textContent = problem(error)
    }
  }

  private row(d: DiagnosticItem): HTMLTableRowElement {
    const instance = this.ctx.instances.find((i) => i.id === d.instance_id)?.gateway_instance ?? d.instance_id ?? '—'
    const outcome = OUTCOMES.find(([v]) => v === d.outcome)?.[1] ?? d.outcome
    return h(
      'tr',
      { 'data-outcome': d.outcome },
      h('td', {}, h('time', { datetime: d.occurred_at }, fullTime(d.occurred_at))),
      h('td', {}, instance),
      h('td', {}, h('code', {}, d.route)),
      h('td', {}, d.event ?? '—'),
      h('td', {}, outcome),
      h('td', {}, d.status_code ?? '—'),
      h('td', {}, d.latency_ms === null ? '—' : `${Math.round(d.latency_ms)} ms`),
      h('td', {}, d.error_code ?? '—'),
    )
  }
}
