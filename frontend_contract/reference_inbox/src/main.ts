// Ponte's reference web inbox: sign-in from the URL fragment, the shell, the routes.

import type { Membership } from '../../types'
import { Api } from './api'
import type { Ctx, View } from './context'
import { h, replace } from './dom'
import { Live, type LiveState, type StackConfig } from './realtime'
import { readSession, type Session, signOut, type SignInProblem, takeTokenFromUrl } from './session'
import { AdminDiagnostics } from './views/admin_diagnostics'
import { AdminInstances } from './views/admin_instances'
import { AdminContacts } from './views/admin_contacts'
import { ConversationView } from './views/conversation'
import { DeepLinkView } from './views/deeplink'
import { InboxList } from './views/inbox'
import { tickSla } from './views/parts'
import { problem } from './words'

const root = document.getElementById('app') as HTMLElement
const basePath = new URL(document.baseURI).pathname // '/inbox/'

const SIGN_IN_WHY: Record<SignInProblem, string> = {
  missing: 'Você ainda não entrou.',
  expired: 'Sua sessão expirou.',
  malformed: 'O token de acesso recebido não é válido.',
}

function signInScreen(why: SignInProblem): void {
  document.title = 'Entrar · Ponte'
  replace(
    root,
    h(
      'main',
      { class: 'signin' },
      h('h1', {}, 'Ponte · Caixa de entrada'),
      h('p', { role: 'alert' }, SIGN_IN_WHY[why]),
      h('p', {}, 'Abra este endereço com o seu token de acesso no fim, depois de #access_token=, como num link mágico do Supabase:'),
      h('pre', {}, `${location.origin}${basePath}#access_token=<seu token>`),
      h('p', {}, 'No ambiente local, gere um token com ', h('code', {}, 'ponte token'), ' (atendente: ', h('code', {}, 'ponte token --role agent'), ').'),
    ),
  )
}

function pickMembership(memberships: Membership[]): Membership | undefined {
  const wanted = sessionStorage.getItem('ponte.tenant')
  return memberships.find((m) => m.tenant_id === wanted) ?? memberships[0]
}

async function start(session: Session): Promise<void> {
  const config = (await (await fetch('config.json', { cache: 'no-store' })).json()) as StackConfig & { api_url?: string }
  const api = new Api(config.api_url ?? location.origin, () => session.token, () => {
    signOut()
    signInScreen('expired')
  })
  const me = await api.me()
  const membership = pickMembership(me.memberships)
  if (!membership) {
    replace(root, h('main', { class: 'signin' }, h('h1', {}, 'Ponte'), h('p', { role: 'alert' }, 'Sua conta não faz parte de nenhuma empresa.')))
    return
  }
  const isAdmin = membership.role === 'owner' || membership.role === 'admin'
  const liveBadge = h('span', { class: 'live', role: 'status', 'data-live': 'connecting' }, 'Conectando…')
  const onLive = (state: LiveState, detail?: string): void => {
    liveBadge.dataset.live = state
    liveBadge.textContent = { connecting: 'Conectando…', live: 'Ao vivo', error: 'Sem tempo real', closed: 'Desconectado' }[state]
    if (detail) liveBadge.title = detail
  }
  const live = new Live(config, () => session.token, membership.tenant_id, isAdmin, onLive)
  const instances = (await api.instances()).items
  const ctx: Ctx = {
    api,
    live,
    me,
    membership,
    isAdmin,
    instances,
    prefill: new Map(),
    navigate: (path, { replace = false } = {}) => {
      if (replace) history.replaceState(null, '', basePath + path)
      else history.pushState(null, '', basePath + path)
      render()
    },
    href: (path) => basePath + path,
  }

  const nav = h(
    'nav',
    { 'aria-label': 'Seções' },
    h('a', { href: ctx.href(''), 'data-section': 'inbox' }, 'Caixa de entrada'),
    isAdmin
      ? [
          h('a', { href: ctx.href('admin/diagnosticos'), 'data-section': 'admin' }, 'Diagnóstico'),
          h('a', { href: ctx.href('admin/instancias'), 'data-section': 'admin' }, 'Instâncias'),
          h('a', { href: ctx.href('admin/contatos'), 'data-section': 'admin' }, 'Contatos ocultos'),
        ]
      : null,
  )
  const signOutButton = h('button', { type: 'button', class: 'link' }, 'Sair')
  signOutButton.addEventListener('click', () => {
    signOut()
    signInScreen('missing')
  })
  const main = h('main', { id: 'main' })
  replace(
    root,
    h(
      'header',
      { class: 'topbar' },
      h('p', { class: 'brand' }, 'Ponte'),
      h('p', { class: 'who' }, `${membership.tenant_name} · ${me.email ?? ''} (${ROLE_WORDS[membership.role]})`),
      nav,
      liveBadge,
      signOutButton,
    ),
    main,
  )

  let inbox: InboxList | null = null
  let current: View | null = null
  const show = (view: View | null, title: string): void => {
    current?.dispose()
    current = view
    document.title = `${title} · Ponte`
  }

  function render(): void {
    const path = location.pathname.startsWith(basePath) ? location.pathname.slice(basePath.length) : ''
    const [section, param] = path.split('/')
    for (const link of nav.querySelectorAll('a')) {
      if (new URL(link.href).pathname === location.pathname) link.setAttribute('aria-current', 'page')
      else link.removeAttribute('aria-current')
    }
    if (section === '' || section === 'conversa') {
      inbox ??= new InboxList(ctx)
      const detail = h('section', { class: 'detail', 'aria-label': 'Conversa' })
      replace(main, h('div', { class: 'inbox-layout' }, inbox.el, detail))
      if (section === 'conversa' && param) {
        const view = new ConversationView(ctx, param, inbox)
        show(view, 'Conversa')
        detail.append(view.el)
      } else {
        show(null, 'Caixa de entrada')
        detail.append(h('p', { class: 'placeholder' }, 'Escolha uma conversa.'))
      }
      inbox.select(section === 'conversa' ? (param ?? null) : null)
      return
    }
    if (section === 'link') {
      const view = new DeepLinkView(ctx, location.search.slice(1))
      show(view, 'Link de campanha')
      replace(main, view.el)
      return
    }
    if (section === 'admin') {
      if (!isAdmin) {
        show(null, 'Acesso restrito')
        replace(main, h('section', { class: 'page' }, h('h1', {}, 'Acesso restrito'), h('p', { role: 'alert' }, 'Esta área é só para proprietários e administradores.')))
        return
      }
      const view =
        param === 'instancias' ? new AdminInstances(ctx) : param === 'contatos' ? new AdminContacts(ctx) : new AdminDiagnostics(ctx)
      show(view, param === 'instancias' ? 'Instâncias' : param === 'contatos' ? 'Contatos ocultos' : 'Diagnóstico')
      replace(main, view.el)
      return
    }
    show(null, 'Página não encontrada')
    replace(main, h('section', { class: 'page' }, h('h1', {}, 'Página não encontrada'), h('a', { href: ctx.href('') }, 'Voltar à caixa de entrada')))
  }

  // Links under the page's base move without a reload (the live topics stay joined).
  document.addEventListener('click', (event) => {
    const link = (event.target as Element | null)?.closest('a')
    if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return
    const url = new URL(link.href)
    if (url.origin !== location.origin || !url.pathname.startsWith(basePath) || link.target) return
    event.preventDefault()
    history.pushState(null, '', url.pathname + url.search)
    render()
  })
  window.addEventListener('popstate', render)
  setInterval(() => tickSla(), 1000)
  render()
  await live.start()
}

const ROLE_WORDS: Record<Membership['role'], string> = { owner: 'proprietária(o)', admin: 'administrador(a)', agent: 'atendente' }

takeTokenFromUrl()
const session = readSession()
if (typeof session === 'string') signInScreen(session)
else
  start(session).catch((error: unknown) => {
    replace(root, h('main', { class: 'signin' }, h('h1', {}, 'Ponte'), h('p', { role: 'alert' }, problem(error))))
  })
