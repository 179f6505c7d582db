// Watch the demo tenant's inbox live with the official supabase-js client, as a frontend would:
//
//   node tests/js/watch_inbox.mjs [STATE_DIR] [--count N]
//
// Reads the running local stack's stack.json (URLs, anon key, topics) from STATE_DIR
// (default .ponte) and the user's JWT from PONTE_TOKEN (`export PONTE_TOKEN=$(ponte token)`),
// joins the private tenant topic and prints one JSON line per broadcast. With --count it
// exits after N broadcasts; otherwise Ctrl-C stops it.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createClient } from '@supabase/supabase-js'
import WebSocket from 'ws'

const args = process.argv.slice(2)
const countAt = args.indexOf('--count')
const count = countAt >= 0 ? Number(args.splice(countAt, 2)[1]) : Infinity
const stateDir = args[0] ?? '.ponte'
const token = process.env.PONTE_TOKEN
if (!token) {
  console.error('PONTE_TOKEN is not set: export PONTE_TOKEN=$(ponte token)')
  process.exit(2)
}
const stack = JSON.parse(readFileSync(join(stateDir, 'stack.json'), 'utf8'))
const supabase = createClient(stack.supabase_url, stack.anon_key, {
  accessToken: async () => token,
  realtime: { transport: WebSocket },
})
await supabase.realtime.setAuth()
let seen = 0
supabase
  .channel(stack.topics.tenant, { config: { private: true } })
  .on('broadcast', { event: '*' }, ({ event, payload }) => {
    console.log(JSON.stringify({ event, payload }))
    if (++seen >= count) process.exit(0)
  })
  .subscribe((state, err) => {
    console.error(`${stack.topics.tenant}: ${state}${err ? ` (${err.message ?? err})` : ''}`)
    if (state === 'CHANNEL_ERROR') process.exit(1)
  })
