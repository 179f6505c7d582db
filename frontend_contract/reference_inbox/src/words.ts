// What a user reads, in Brazilian Portuguese. The label maps are typed by the contract's unions,
// so a value added to the contract fails the build until it has its words here.

import type { Intent, LeadDetail, MessageKind, Priority, Sentiment, Urgency } from '../../types'
import { ApiError } from './api'

export const INTENTS: Record<Intent, string> = {
  purchase_interest: 'interesse em compra',
  support_request: 'pedido de suporte',
  billing_payment: 'pagamento',
  billing_negotiation: 'negociação de dívida',
  billing_dispute: 'contestação de cobrança',
  complaint: 'reclamação',
  cancellation: 'cancelamento',
  greeting: 'saudação',
  other: 'outro assunto',
}

export const SENTIMENTS: Record<Sentiment, string> = { negative: 'negativo', neutral: 'neutro', positive: 'positivo' }
export const URGENCIES: Record<Urgency, string> = { low: 'baixa', medium: 'média', high: 'alta' }
export const PRIORITIES: Record<Priority, string> = { low: 'baixa', medium: 'média', high: 'alta', critical: 'crítica' }
export const STAGES: Record<LeadDetail['stage'], string> = { new: 'novo', open: 'em negociação', won: 'ganho', lost: 'perdido' }
export const SOURCES: Record<string, string> = {
  organic: 'orgânico',
  ctwa_ad: 'anúncio (clique para WhatsApp)',
  search: 'busca',
  deep_link: 'link de campanha',
}

/** What a message that is not plain text shows in place of its text. */
export const KINDS: Record<MessageKind, string> = {
  text: 'Mensagem',
  image: 'Imagem',
  audio: 'Áudio',
  voice: 'Mensagem de voz',
  video: 'Vídeo',
  document: 'Documento',
  sticker: 'Figurinha',
  location: 'Localização',
  contact: 'Contato',
  reaction: 'Reação',
  interactive_reply: 'Resposta de botão',
  edited: 'Mensagem editada',
  revoked: 'Mensagem apagada',
  unknown: 'Mensagem não suportada',
}
export const kindWord = (kind: string): string => (Object.hasOwn(KINDS, kind) ? KINDS[kind as MessageKind] : kind)

/** Realtime payloads carry some labels as plain strings: narrowed here, unknown ones shown as they are. */
export function isIntent(value: string): value is Intent {
  return Object.hasOwn(INTENTS, value)
}
export function isSentiment(value: string): value is Sentiment {
  return Object.hasOwn(SENTIMENTS, value)
}
export function isUrgency(value: string): value is Urgency {
  return Object.hasOwn(URGENCIES, value)
}
export function isPriority(value: string): value is Priority {
  return Object.hasOwn(PRIORITIES, value)
}

/** The triage reasons of a lead's score (ponte.domain.scoring.triage). */
export function triageWord(reason: string): string {
  const [kind, value] = reason.split(':')
  if (kind === 'urgency' && value && isUrgency(value)) return `urgência ${URGENCIES[value]}`
  return TRIAGE[reason] ?? reason
}
const TRIAGE: Record<string, string> = {
  billing_dispute: 'contestação de cobrança',
  negative_sentiment: 'cliente insatisfeito',
  hot_lead: 'lead quente',
}

/** messages.status as the gateway's acks move it: the ticks of an outbound message. */
export const DELIVERY: Record<string, { ticks: string; label: string }> = {
  pending: { ticks: '○', label: 'Enviando' },
  sent: { ticks: '✓', label: 'Enviada' },
  delivered: { ticks: '✓✓', label: 'Entregue' },
  read: { ticks: '✓✓', label: 'Lida' },
  played: { ticks: '✓✓', label: 'Ouvida' },
  error: { ticks: '!', label: 'Falhou no WhatsApp' },
}

const ERRORS: Record<string, string> = {
  network_error: 'Sem resposta do servidor. Verifique a conexão e tente de novo.',
  unauthorized: 'Sua sessão expirou. Entre de novo.',
  forbidden: 'Você não tem permissão para isso.',
  not_privacy_admin: 'Só proprietários e administradores podem ocultar ou reexibir contatos.',
  conversation_not_found: 'Conversa não encontrada: o contato pode ter sido ocultado ou apagado.',
  instance_not_found: 'Instância do WhatsApp não encontrada.',
  session_not_logged:
    'A sessão do WhatsApp desta instância está desconectada: a mensagem não foi enviada. Um administrador precisa reconectá-la (Instâncias).',
  gateway_unavailable: 'O gateway do WhatsApp não respondeu: a mensagem não foi enviada. Tente de novo em instantes.',
  gateway_not_configured: 'Esta instância do WhatsApp não está configurada para envio.',
  gateway_rejected: 'O WhatsApp recusou a mensagem.',
  empty_text: 'Escreva uma mensagem antes de enviar.',
  text_too_long: 'A mensagem é longa demais.',
  unknown_suggestion: 'A sugestão não existe mais; a mensagem não foi enviada.',
  idempotency_key_reused: 'Este envio já foi usado para outro texto. Tente de novo.',
  send_in_progress: 'O envio anterior ainda está em andamento.',
  bad_signature: 'Este link não é válido: a assinatura não confere.',
  expired: 'Este link expirou.',
  invalid_deeplink: 'Este link está incompleto ou malformado.',
  invalid_phone: 'Número de telefone inválido.',
  bad_number: 'Número de telefone inválido.',
  invalid_contact: 'Informe um número de telefone.',
  privacy_unavailable: 'A ocultação de contatos não está configurada neste servidor.',
  internal_error: 'Erro interno do servidor. Tente de novo.',
}

export function problem(error: unknown): string {
  if (error instanceof ApiError) return ERRORS[error.code] ?? `Não foi possível concluir (${error.code}).`
  return 'Algo deu errado nesta tela. Recarregue a página.'
}

const time = new Intl.DateTimeFormat('pt-BR', { hour: '2-digit', minute: '2-digit' })
const day = new Intl.DateTimeFormat('pt-BR', { day: '2-digit', month: '2-digit' })
const full = new Intl.DateTimeFormat('pt-BR', { dateStyle: 'short', timeStyle: 'medium' })

export function when(iso: string): string {
  const date = new Date(iso)
  const today = new Date()
  return date.toDateString() === today.toDateString() ? time.format(date) : day.format(date)
}
export const fullTime = (iso: string): string => full.format(new Date(iso))

export function duration(ms: number): string {
  const minutes = Math.max(0, Math.round(ms / 60000))
  const hours = Math.floor(minutes / 60)
  return hours ? `${hours} h ${String(minutes % 60).padStart(2, '0')} min` : `${minutes} min`
}

/** The SLA countdown: the time left, or how long ago it was breached. */
export function sla(dueIso: string, now = Date.now()): { text: string; breached: boolean } {
  const left = new Date(dueIso).getTime() - now
  return left > 0 ? { text: `SLA em ${duration(left)}`, breached: false } : { text: `SLA estourado há ${duration(-left)}`, breached: true }
}

export function phone(e164: string | null): string {
  const m = e164?.match(/^\+55(\d{2})(\d{4,5})(\d{4})$/)
  return m ? `(${m[1]}) ${m[2]}-${m[3]}` : (e164 ?? 'sem número')
}
