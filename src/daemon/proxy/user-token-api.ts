import type {IncomingMessage} from 'node:http'
import QRCode from 'qrcode'
import type {ProxyAuthApi} from '../../api/auth-api.js'
import type {Untrusted} from '../../api/route.js'
import type {WebUserToken} from '../../api/web-ui-routes.js'
import {AccessDeniedError, BadParameterError, NotFoundError} from '../../lib/errors.js'
import {joinHostPort, plainIp} from '../../lib/net/ip.js'
import {readJsonObject} from './http-util.js'

// Invite and reset links (`/web/invite/<token>`, `/web/reset/<token>` are pages of the app): the
// page reads the link's details (user, expiry, the TOTP secret to enroll as text, otpauth URL and
// QR code), then sets the password and enrolls the device in one call. The proxy checks what the
// user can fix with a clear message; auth checks everything again and has the last word.

export interface UserTokenContext {
  authApi: Pick<ProxyAuthApi, 'ping' | 'getUserToken' | 'redeemUserToken'>
  /** A refused redemption, for the audit log (`user` is empty when the link names no user). */
  refused(attempt: {user: string; error: string; remoteAddr: string}): void
}

const TOKEN = /^[0-9a-f]{32}$/
const GONE = 'this link is invalid, has expired or was already used'
const GONE_HINT = 'ask your administrator for a new one (tctl users reset <user>)'

function gone(): NotFoundError {
  return new NotFoundError(GONE, {hint: GONE_HINT})
}

/** `GET /v1/webapi/users/password/token/:token`. */
export async function getUserToken(ctx: UserTokenContext, token: string): Promise<WebUserToken> {
  const info = await lookUp(ctx, token)
  if (!info) throw gone()
  const qrSvg = await QRCode.toString(info.totp.otpauthUrl, {type: 'svg', errorCorrectionLevel: 'M', margin: 2})
  return {
    kind: info.kind as WebUserToken['kind'],
    user: info.user,
    expires: info.expires,
    totp: {secret: info.totp.secret, otpauth_url: info.totp.otpauthUrl, qr_svg: qrSvg},
  }
}

/** `PUT /v1/webapi/users/password/token`: sets the password (and enrolls TOTP). */
export async function redeemUserToken(ctx: UserTokenContext, req: IncomingMessage): Promise<{user: string}> {
  const remoteAddr = joinHostPort(plainIp(req.socket.remoteAddress), req.socket.remotePort ?? 0)
  const body: Untrusted<{token: string; password: string; second_factor_token?: string}> = await readJsonObject(req)
  const token = typeof body.token === 'string' ? body.token : ''
  const info = await lookUp(ctx, token)
  if (!info) {
    // A redemption of a dead link is someone trying it (opening the page is only a lookup).
    ctx.refused({user: '', error: 'password link is invalid, expired or already used', remoteAddr})
    throw gone()
  }
  const password = typeof body.password === 'string' ? body.password : ''
  const otpCode = typeof body.second_factor_token === 'string' ? body.second_factor_token.replace(/\s+/g, '') : ''
  const length = [...password].length
  if (length < 6 || length > 128) throw new BadParameterError('the password must be between 6 and 128 characters')
  const secondFactor = (await ctx.authApi.ping()).secondFactor
  if ((secondFactor === 'otp' || secondFactor === 'on') && otpCode === '') throw new BadParameterError('enter the 6-digit code shown by your authenticator app')
  if (otpCode !== '' && !/^\d{6}$/.test(otpCode)) throw new BadParameterError('the code from the authenticator app has 6 digits')
  try {
    return await ctx.authApi.redeemUserToken({token, password, ...(secondFactor !== 'off' && otpCode ? {otpCode} : {})})
  } catch (err) {
    if (err instanceof NotFoundError) throw gone()
    if (err instanceof AccessDeniedError) ctx.refused({user: info.user, error: `${info.kind} refused: ${err.message}`, remoteAddr})
    throw err
  }
}

type TokenInfo = Awaited<ReturnType<ProxyAuthApi['getUserToken']>>

/** The token's details, or undefined for a link that is malformed, unknown, used or expired. */
async function lookUp(ctx: UserTokenContext, token: string): Promise<TokenInfo | undefined> {
  if (!TOKEN.test(token)) return undefined
  try {
    return await ctx.authApi.getUserToken(token)
  } catch (err) {
    if (err instanceof NotFoundError) return undefined
    throw err
  }
}
