import {routeTarget, type CallInput, type JsonRoute, type ResponseOf} from '../../src/api/route.js'
import {WEB_ROUTES, type WebPing} from '../../src/api/web-routes.js'
import {WEB_UI_ROUTES, type WebContext, type WebSignInRequest} from '../../src/api/web-ui-routes.js'

// The page's calls to the proxy: the bearer token on every call (kept in memory and in
// sessionStorage so that a reload or a tab opened from this one keeps the session), errors as one
// line, and a 401 on a signed-in call ends the session in the page (the cookie alone is refused).

const STORAGE_KEY = 'teleport.web.session'

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

interface Stored {
  token: string
}

let stored: Stored | null = readStored()
let context: WebContext | null = null
let ping: Promise<WebPing> | null = null
let onExpired: () => void = () => {}

function readStored(): Stored | null {
  try {
    const value = JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? 'null') as Stored | null
    return value && typeof value.token === 'string' ? {token: value.token} : null
  } catch {
    return null
  }
}

export function bearerToken(): string | null {
  return stored?.token ?? null
}

export function signedIn(): boolean {
  return stored !== null
}

/** What happens when the proxy refuses the session (expired, revoked, locked): set by the router. */
export function whenExpired(handler: () => void): void {
  onExpired = handler
}

/** Forget the session in this tab (the proxy already has, or is told by signOut). */
function forget(): void {
  stored = null
  context = null
  sessionStorage.removeItem(STORAGE_KEY)
}

/** The proxy refused the session: forget it and go to sign-in ("your session has expired"). */
export function expired(): void {
  forget()
  onExpired()
}

async function errorOf(res: Response): Promise<ApiError> {
  let message = `${res.status} ${res.statusText}`.trim()
  try {
    const body = (await res.json()) as {error?: {message?: unknown}; message?: unknown}
    const text = body.error?.message ?? body.message
    if (typeof text === 'string' && text.trim()) message = text.trim().split('\n')[0]!
  } catch {
    // not JSON: the status line says it
  }
  return new ApiError(res.status, message)
}

/** Calls `route` with the session's bearer token; the JSON answer, or an ApiError. */
export async function call<R extends JsonRoute>(route: R, input: CallInput<R>, options: {anonymous?: boolean} = {}): Promise<ResponseOf<R>> {
  const {params, query, body} = input as {params?: Record<string, string>; query?: Record<string, string | undefined>; body?: unknown}
  const headers: Record<string, string> = {accept: 'application/json'}
  const token = options.anonymous ? null : bearerToken()
  if (token) headers.authorization = `Bearer ${token}`
  if (body !== undefined) headers['content-type'] = 'application/json'
  let res: Response
  try {
    res = await fetch(routeTarget(route.path, params, query), {
      method: route.method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    })
  } catch {
    throw new ApiError(0, 'Cannot reach the proxy. Check your connection and try again.')
  }
  if (!res.ok) {
    const err = await errorOf(res)
    if (res.status === 401 && token) expired()
    throw err
  }
  const text = await res.text()
  return (text ? JSON.parse(text) : undefined) as ResponseOf<R>
}

/** The proxy's public ping (asked once per page load). */
function pinged(): Promise<WebPing> {
  ping ??= call(WEB_ROUTES.ping, {}, {anonymous: true}).catch((err: unknown) => {
    ping = null
    throw err
  })
  return ping
}

/** The cluster's name (the `:site` of every route). */
export async function cluster(): Promise<string> {
  return (await pinged()).cluster_name
}

/** The cluster's second factor: off, otp, on or optional. */
export async function secondFactor(): Promise<string> {
  return (await pinged()).auth.second_factor
}

export async function signIn(request: WebSignInRequest): Promise<void> {
  const res = await call(WEB_UI_ROUTES.signIn, {body: request}, {anonymous: true})
  stored = {token: res.token}
  context = null
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(stored))
}

export async function signOut(): Promise<void> {
  try {
    if (bearerToken()) await call(WEB_UI_ROUTES.signOut, {}, {})
  } finally {
    forget()
  }
}

/** Who is signed in and where (asked once per page load). */
export async function webContext(): Promise<WebContext> {
  context ??= await call(WEB_UI_ROUTES.context, {params: {site: await cluster()}})
  return context
}

/** The route's `:site` parameter. */
export async function site(): Promise<{site: string}> {
  return {site: await cluster()}
}

/** A WebSocket URL on the proxy for `path` (wss: the page is served over HTTPS). */
function socketUrl(path: string): string {
  return `${location.protocol === 'http:' ? 'ws:' : 'wss:'}//${location.host}${path}`
}

/**
 * A UI WebSocket (docs/WEB.md): the bearer token goes in the first frame; binary frames are
 * terminal bytes, text frames JSON control messages (anything unreadable is ignored).
 */
export function openUiSocket<Control>(path: string, handlers: {bytes(data: Uint8Array): void; control(msg: Control): void}): WebSocket {
  const ws = new WebSocket(socketUrl(path))
  ws.binaryType = 'arraybuffer'
  ws.addEventListener('open', () => ws.send(JSON.stringify({type: 'auth', token: bearerToken() ?? ''})))
  ws.addEventListener('message', (event) => {
    if (typeof event.data !== 'string') return handlers.bytes(new Uint8Array(event.data as ArrayBuffer))
    let msg: Control
    try {
      msg = JSON.parse(event.data) as Control
    } catch {
      return
    }
    handlers.control(msg)
  })
  return ws
}
