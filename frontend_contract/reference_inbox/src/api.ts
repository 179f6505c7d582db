// The proxy's REST surface, typed with the generated contract (frontend_contract/types).

import type {
  ContactRef,
  ConversationDetail,
  ConversationPage,
  DeepLinkResolved,
  DiagnosticsPage,
  ErrorBody,
  HiddenList,
  HideResult,
  InstanceList,
  InstanceView,
  Me,
  MessagePage,
  ReadReceipt,
  SearchPage,
  SendRequest,
  SendResponse,
  StartConversationRequest,
  SuggestionOutcomeBody,
  UnhideResult,
} from '../../types'

export type Params = Record<string, string | undefined>

/** An answer that was not 2xx: the API's machine code and reason (ErrorBody), or a network failure. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

export interface Sent<T> {
  status: number
  body: T
}

export class Api {
  constructor(
    private readonly base: string,
    private readonly token: () => string,
    private readonly onUnauthorized: () => void,
  ) {}

  me = (): Promise<Me> => this.get('/me')
  instances = (): Promise<InstanceList> => this.get('/instances')
  conversations = (params: Params): Promise<ConversationPage> => this.get('/conversations', params)
  conversation = (id: string): Promise<ConversationDetail> => this.get(`/conversations/${enc(id)}`)
  messages = (id: string, before: string | null, limit = 30): Promise<MessagePage> =>
    this.get(`/conversations/${enc(id)}/messages`, { before: before ?? undefined, limit: String(limit) })
  markRead = (id: string): Promise<ReadReceipt> => this.post<ReadReceipt>(`/conversations/${enc(id)}/read`).then((r) => r.body)
  search = (q: string): Promise<SearchPage> => this.get('/search', { q })
  send = (conversationId: string, body: SendRequest): Promise<Sent<SendResponse>> =>
    this.post(`/conversations/${enc(conversationId)}/messages`, body)
  start = (body: StartConversationRequest): Promise<Sent<SendResponse>> => this.post('/conversations', body)
  discardSuggestion = (id: string): Promise<SuggestionOutcomeBody> =>
    this.post<SuggestionOutcomeBody>(`/suggestions/${enc(id)}/outcome`, { outcome: 'discarded' }).then((r) => r.body)
  resolveDeepLink = (query: string): Promise<DeepLinkResolved> => this.request('GET', `/deeplinks/resolve?${query}`).then((r) => r.body as DeepLinkResolved)
  diagnostics = (params: Params): Promise<DiagnosticsPage> => this.get('/diagnostics', params)
  instanceStatus = (id: string): Promise<InstanceView> => this.get(`/instances/${enc(id)}/status`)
  reconnect = (id: string): Promise<InstanceView> => this.post<InstanceView>(`/instances/${enc(id)}/reconnect`).then((r) => r.body)
  reset = (id: string): Promise<InstanceView> => this.post<InstanceView>(`/instances/${enc(id)}/reset`).then((r) => r.body)
  hidden = (): Promise<HiddenList> => this.get('/contacts/hidden')
  hide = (ref: ContactRef): Promise<HideResult> => this.post<HideResult>('/contacts/hide', ref).then((r) => r.body)
  unhide = (ref: ContactRef): Promise<UnhideResult> => this.post<UnhideResult>('/contacts/unhide', ref).then((r) => r.body)

  private async get<T>(path: string, params: Params = {}): Promise<T> {
    const query = new URLSearchParams()
    for (const [name, value] of Object.entries(params)) if (value) query.set(name, value)
    const qs = query.toString()
    return (await this.request('GET', qs ? `${path}?${qs}` : path)).body as T
  }

  private async post<T>(path: string, body?: unknown): Promise<Sent<T>> {
    const sent = await this.request('POST', path, body ?? {})
    return { status: sent.status, body: sent.body as T }
  }

  private async request(method: string, path: string, body?: unknown): Promise<Sent<unknown>> {
    let response: Response
    try {
      response = await fetch(this.base + path, {
        method,
        headers: {
          Authorization: `Bearer ${this.token()}`,
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        body: body === undefined ? null : JSON.stringify(body),
      })
    } catch {
      throw new ApiError(0, 'network_error', 'no answer from the API')
    }
    const text = await response.text()
    let parsed: unknown = null
    try {
      parsed = text ? JSON.parse(text) : null
    } catch {
      parsed = null
    }
    if (response.status === 401) this.onUnauthorized()
    if (!response.ok) {
      const error = (parsed ?? {}) as Partial<ErrorBody>
      throw new ApiError(response.status, error.code ?? `http_${response.status}`, error.message ?? response.statusText)
    }
    return { status: response.status, body: parsed }
  }
}

const enc = encodeURIComponent
