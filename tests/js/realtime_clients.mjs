// The official supabase-js client (realtime-js, vsn 2.0.0) against Ponte's local stack.
//
// Driven by tests/e2e/test_realtime_js.py: the scenario comes as JSON in argv[2]; the
// script prints one JSON line {"ready": ...} once every channel has settled, waits for
// the tenant's message_created (the test posts a webhook meanwhile), watches the
// outsider for a quiet period, then prints one JSON line {"result": ...} and exits.
import { createClient } from '@supabase/supabase-js'
import WebSocket from 'ws'

const cfg = JSON.parse(process.argv[2])
const heartbeats = []

function client(token, extra = {}) {
  // The user's JWT comes from the accessToken callback (what a frontend with its own
  // sign-in does; with Supabase Auth the signed-in session's token is used instead).
  const supabase = createClient(cfg.url, cfg.anonKey, {
    accessToken: async () => token,
    realtime: {
      transport: WebSocket,
      heartbeatIntervalMs: 500,
      heartbeatCallback: (status) => heartbeats.push(status),
      ...extra,
    },
  })
  return { supabase }
}

async function join(c, topic, { isPrivate = true, broadcast = {} } = {}) {
  // Resolve the token first: a join sent before it resolves would be anonymous.
  await c.supabase.realtime.setAuth()
  const rec = { states: [], errors: [], broadcasts: [], systems: [] }
  const channel = c.supabase.channel(topic, { config: { private: isPrivate, broadcast } })
  channel.on('broadcast', { event: '*' }, (m) => rec.broadcasts.push(m))
  channel.on('system', {}, (m) => rec.systems.push(m))
  await new Promise((resolve) => {
    channel.subscribe((state, err) => {
      rec.states.push(state)
      if (err) rec.errors.push(String(err.message ?? err))
      if (state !== 'CLOSED') resolve()
    })
  })
  return { channel, rec }
}

const until = async (predicate, ms) => {
  const deadline = Date.now() + ms
  while (!predicate() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
  return predicate()
}

const member = client(cfg.memberToken)
const outsider = client(cfg.outsiderToken)
const shortLived = client(cfg.expiringToken)

const inbox = await join(member, `tenant:${cfg.tenantId}`)
const outsiderOwn = await join(outsider, `tenant:${cfg.otherTenantId}`)
const refused = await join(outsider, `tenant:${cfg.tenantId}`)
const expiring = await join(shortLived, `tenant:${cfg.tenantId}`)

// A client broadcast on a public room: a binary (kind 3) push, echoed back (self) as kind 4, acknowledged.
const room = await join(member, `room:${cfg.roomId}`, { isPrivate: false, broadcast: { self: true, ack: true } })
const ack = await room.channel.send({ type: 'broadcast', event: 'typing', payload: { who: 'agente', text: 'olá ✓' } })
await until(() => room.rec.broadcasts.length > 0, 5000)

console.log(JSON.stringify({ ready: { inbox: inbox.rec.states, outsiderOwn: outsiderOwn.rec.states, refused: refused.rec } }))

const got = await until(() => inbox.rec.broadcasts.some((m) => m.event === 'message_created'), cfg.timeoutMs)
await new Promise((r) => setTimeout(r, cfg.quietMs))
await until(() => expiring.rec.systems.some((m) => m.status === 'error'), cfg.timeoutMs)

console.log(
  JSON.stringify({
    result: {
      gotMessage: got,
      inbox: inbox.rec.broadcasts,
      outsiderOwn: outsiderOwn.rec.broadcasts,
      refused: refused.rec.broadcasts,
      expiring: { states: expiring.rec.states, systems: expiring.rec.systems },
      room: { ack, broadcasts: room.rec.broadcasts },
      heartbeats: { ok: heartbeats.filter((s) => s === 'ok').length, timeout: heartbeats.filter((s) => s === 'timeout').length },
    },
  }),
)
for (const c of [member, outsider, shortLived]) await c.supabase.removeAllChannels()
process.exit(0)
