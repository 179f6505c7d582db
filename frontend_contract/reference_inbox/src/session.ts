// Sign-in the way Supabase magic links hand the session over: `#access_token=<JWT>` in the URL
// fragment. Browsers never send the fragment to a server, so the token reaches no server log; it
// is moved to sessionStorage (this tab only) and the fragment is removed from the address bar.

const STORAGE_KEY = 'ponte.access_token'

export interface Session {
  token: string
  userId: string
  email: string | null
  expiresAt: number | null // epoch ms
}

export type SignInProblem = 'missing' | 'expired' | 'malformed'

export function takeTokenFromUrl(): void {
  if (!location.hash.includes('access_token=')) return
  const token = new URLSearchParams(location.hash.slice(1)).get('access_token')
  if (token) sessionStorage.setItem(STORAGE_KEY, token)
  history.replaceState(history.state, '', location.pathname + location.search)
}

export function readSession(): Session | SignInProblem {
  const token = sessionStorage.getItem(STORAGE_KEY)
  if (!token) return 'missing'
  const claims = decodeClaims(token)
  if (!claims || typeof claims.sub !== 'string') return 'malformed'
  const expiresAt = typeof claims.exp === 'number' ? claims.exp * 1000 : null
  if (expiresAt !== null && expiresAt <= Date.now()) return 'expired'
  return { token, userId: claims.sub, email: typeof claims.email === 'string' ? claims.email : null, expiresAt }
}

export function signOut(): void {
  sessionStorage.removeItem(STORAGE_KEY)
}

/** The JWT's claims, unverified: for display and expiry only; the API verifies the signature. */
function decodeClaims(token: string): Record<string, unknown> | null {
  const part = token.split('.')[1]
  if (!part) return null
  try {
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/'))
    const bytes = Uint8Array.from(json, (c) => c.charCodeAt(0))
    const claims: unknown = JSON.parse(new TextDecoder().decode(bytes))
    return claims && typeof claims === 'object' ? (claims as Record<string, unknown>) : null
  } catch {
    return null
  }
}
