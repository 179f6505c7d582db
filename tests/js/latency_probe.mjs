// The benchmark's realtime probe (`ponte bench ingest`): a supabase-js client of the demo tenant's
// private topic that prints, for every broadcast, when it arrived and what it carried:
//
//   PONTE_TOKEN=<jwt> node tests/js/latency_probe.mjs STATE_DIR
//
// One JSON line per broadcast: {"t": <epoch ms, sub-ms>, "event": ..., "body": <message text>}.
// Prints {"ready": true} once the channel is subscribed. Runs until stdin closes.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { createClient } from '@supabase/supabase-js'
import WebSocket from 'ws'

const stateDir = process.argv[2] ?? '.ponte'
const token = process.env.PONTE_TOKEN
const stack = JSON.parse(readFileSync(join(stateDir, 'stack.json'), 'utf8'))
const supabase = createClient(stack.supabase_url, stack.anon_key, {
  accessToken: async () => token,
  realtime: { transport: WebSocket },
})
await supabase.realtime.setAuth()
const out = []
const flush = () => {
  if (out.length) process.stdout.write(out.splice(0).join('\n') + '\n')
}
setInterval(flush, 50)
supabase
  .channel(stack.topics.tenant, { config: { private: true } })
  .on('broadcast', { event: 'message_created' }, ({ event, payload }) => {
    const t = performance.timeOrigin + performance.now()
    out.push(JSON.stringify({ t, event, body: payload?.body ?? null }))
  })
  .subscribe((state, err) => {
    if (state === 'SUBSCRIBED') console.log(JSON.stringify({ ready: true }))
    if (state === 'CHANNEL_ERROR') {
      console.error(`probe: ${state} ${err?.message ?? ''}`)
      process.exit(1)
    }
  })
process.stdin.on('end', () => {
  flush()
  process.exit(0)
})
process.stdin.resume()
