import {request, type Dispatcher} from 'undici'
import {generateTotpCode} from '../../src/services/index.js'

// Invite and reset links as the web UI's page follows them: it reads the link's details (user,
// TOTP secret, QR code) from the web API, then sets the password and enrolls TOTP in one call.

export function tokenOf(url: string): string {
  const token = /\/web\/(?:invite|reset)\/([0-9a-f]{32})$/.exec(url)?.[1]
  if (!token) throw new Error(`no token in ${url}`)
  return token
}

export interface WebCallResult {
  status: number
  text: string
}

/** One JSON call to the proxy's web API: method, path, body. */
export type WebCaller = (method: string, path: string, json?: unknown) => Promise<WebCallResult>

/** A WebCaller over HTTPS to the origin of `url` (the link, or any proxy URL). */
export function webCaller(url: string, dispatcher: Dispatcher): WebCaller {
  const origin = new URL(url).origin
  return async (method, path, json) => {
    const res = await request(`${origin}${path}`, {
      method: method as 'GET',
      dispatcher,
      ...(json !== undefined ? {headers: {'content-type': 'application/json'}, body: JSON.stringify(json)} : {}),
    })
    return {status: res.statusCode, text: await res.body.text()}
  }
}

export interface UserTokenView {
  kind: 'invite' | 'reset'
  user: string
  expires: string
  totp: {secret: string; otpauth_url: string; qr_svg: string}
}

/** What the page shows for a link (GET /v1/webapi/users/password/token/<token>). */
export async function readUserToken(web: WebCaller, token: string): Promise<WebCallResult & {view?: UserTokenView}> {
  const res = await web('GET', `/v1/webapi/users/password/token/${token}`)
  return {...res, ...(res.status === 200 ? {view: JSON.parse(res.text) as UserTokenView} : {})}
}

/** What the page sends (PUT /v1/webapi/users/password/token). */
export function redeemUserToken(web: WebCaller, body: {token: string; password: string; second_factor_token?: string}): Promise<WebCallResult> {
  return web('PUT', '/v1/webapi/users/password/token', body)
}

/**
 * Follows an invite or reset link to the end: reads the TOTP secret, sets the password with the
 * current code (none with `otp: false`); fails unless both succeed. Returns the TOTP secret.
 */
export async function acceptUserToken(web: WebCaller, url: string, password: string, options: {otp?: boolean} = {}): Promise<string> {
  const token = tokenOf(url)
  const read = await readUserToken(web, token)
  if (!read.view) throw new Error(`the link's details: ${read.status} ${read.text}`)
  const secret = read.view.totp.secret
  const done = await redeemUserToken(web, {token, password, ...(options.otp === false ? {} : {second_factor_token: generateTotpCode(secret, Date.now())})})
  if (done.status !== 200) throw new Error(`setting the password: ${done.status} ${done.text}`)
  return secret
}
