import {json, types} from './route.js'

// The web UI's API on the proxy's HTTPS port (Teleport's paths and field names): what the proxy
// serves (src/daemon/proxy/) and what the browser calls (web/src/). The protocols of the two
// WebSockets (terminal and player) are in docs/WEB.md. Every route below except sign-in and the
// user-token ones requires the `__Host-session` cookie AND `Authorization: Bearer <token>`.
// Bodies come from anyone who reaches the web port: the proxy checks what it reads.

/** `POST /v1/webapi/sessions/web`: sign-in. Sets the cookie; the page keeps `token` in memory. */
export interface WebSignInRequest {
  user: string
  pass: string
  second_factor_token?: string
}

export interface WebSignInResponse {
  type: 'Bearer'
  token: string
  /** Seconds until the session's certificate expires. */
  expires_in: number
  user: string
}

/** Who is signed in: what the UI shows and offers (auth still decides every call). */
export interface WebContext {
  user: {name: string; roles: string[]}
  cluster: {name: string; version: string}
  session: {expires: string; idle_timeout_ms: number}
}

export interface WebLabel {
  name: string
  value: string
}

export interface WebNode {
  /** The node's host id (what the terminal's `server_id` names). */
  id: string
  hostname: string
  addr: string
  /** Static and command labels, sorted by name. */
  labels: WebLabel[]
  /** The logins the user's roles allow on this node now (the Connect menu); empty: none. */
  logins: string[]
}

export type WebParticipantMode = 'observer' | 'peer' | 'moderator'

export interface WebActiveSession {
  sid: string
  state: 'PENDING' | 'RUNNING' | 'TERMINATED'
  user: string
  login: string
  server_id: string
  hostname: string
  addr: string
  created: string
  participants: {user: string; mode: WebParticipantMode}[]
  /** The modes the user may join this session in (join_sessions, or peer for their own). */
  join_modes: WebParticipantMode[]
}

export interface WebRecording {
  sid: string
  user: string
  login?: string
  hostname?: string
  server_id?: string
  created: string
  /** From session.start to session.end. */
  duration_ms: number
  participants: string[]
  interactive: boolean
}

/** A page of a list that continues: send `startKey` back for the next page (absent: last page). */
export interface WebPage<T> {
  items: T[]
  startKey?: string
}

/** Invite and reset links (`/web/invite/<token>`, `/web/reset/<token>`). */
export interface WebUserToken {
  kind: 'invite' | 'reset'
  user: string
  expires: string
  /** The TOTP secret to enroll: as text, as an otpauth:// URL, and as an SVG QR code of that URL. */
  totp: {secret: string; otpauth_url: string; qr_svg: string}
}

export const WEB_UI_ROUTES = {
  signIn: json('POST', '/v1/webapi/sessions/web', types<{body: WebSignInRequest; response: WebSignInResponse}>()),
  /** Sign-out: auth revokes the session; the cookie is cleared; the session's terminals close. */
  signOut: json('DELETE', '/v1/webapi/sessions/web'),
  context: json('GET', '/v1/webapi/sites/:site/context', types<{response: WebContext}>()),
  nodes: json('GET', '/v1/webapi/sites/:site/nodes', types<{response: {items: WebNode[]}}>()),
  activeSessions: json('GET', '/v1/webapi/sites/:site/sessions', types<{response: {items: WebActiveSession[]}}>()),
  /** Newest first; from/to ISO 8601. */
  recordings: json('GET', '/v1/webapi/sites/:site/recordings', types<{query: {from: string; to: string; limit?: string; startKey?: string}; response: WebPage<WebRecording>}>()),
  /** Newest first; `include` a comma-separated list of event types (absent: all). */
  events: json(
    'GET',
    '/v1/webapi/sites/:site/events/search',
    types<{query: {from: string; to: string; include?: string; limit?: string; startKey?: string}; response: WebPage<Record<string, unknown>>}>(),
  ),
  changePassword: json('PUT', '/v1/webapi/users/password', types<{body: {old_password: string; new_password: string; second_factor_token?: string}}>()),
  userToken: json('GET', '/v1/webapi/users/password/token/:token', types<{response: WebUserToken}>()),
  /** Sets the password and enrolls TOTP; the user then signs in. */
  redeemUserToken: json('PUT', '/v1/webapi/users/password/token', types<{body: {token: string; password: string; second_factor_token?: string}; response: {user: string}}>()),
} as const

export type WebUiRoutes = typeof WEB_UI_ROUTES

/** The terminal WebSocket: `wss://<proxy>/v1/webapi/sites/<site>/connect/ws?params=<JSON of this>`. */
export interface TerminalParams {
  server_id: string
  login: string
  term: {w: number; h: number}
  /** Join this live session instead of starting one. */
  sid?: string
  mode?: WebParticipantMode
}

export const TERMINAL_WS_PATH = /^\/v1\/webapi\/sites\/([^/]+)\/connect\/ws$/
/** The player WebSocket: `wss://<proxy>/v1/webapi/sites/<site>/sessionrecording/<sid>/stream`. */
export const PLAYER_WS_PATH = /^\/v1\/webapi\/sites\/([^/]+)\/sessionrecording\/([^/]+)\/stream$/

/** The session cookie: `__Host-` so it is Secure, host-only and Path=/ by the browser's rules. */
export const SESSION_COOKIE = '__Host-session'
