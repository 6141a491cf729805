import type {IncomingMessage, ServerResponse} from 'node:http'
import QRCode from 'qrcode'
import type {ProxyAuthApi} from '../../api/auth-api.js'
import {AccessDeniedError, BadParameterError, NotFoundError} from '../../lib/errors.js'
import type {Logger} from '../../lib/log.js'
import {joinHostPort, plainIp} from '../../lib/net/ip.js'
import type {FormCsrf} from './form-csrf.js'
import {FORM_BODY_LIMIT, readBody, sendHtml} from './http-util.js'
import {PAGE_CSP, renderMessagePage, renderUserTokenDone, renderUserTokenForm} from './user-token-html.js'

// `/web/invite/<token>` and `/web/reset/<token>`: GET shows the form (QR code and secret of the
// TOTP device to enroll), POST sets the password through the auth server. Anything the user can
// fix re-renders the form with the reason and leaves the link usable; the auth server checks the
// same things again and has the last word.

export interface UserTokenPageContext {
  authApi: ProxyAuthApi
  log: Logger
  csrf: FormCsrf
  /** host:port for the `tsh login --proxy=...` line. */
  publicWebAddr(req: IncomingMessage): string
  /** A refused form post, for the audit log (`user` is empty when the link names no user). */
  refused(attempt: {user: string; error: string; remoteAddr: string}): void
}

type Kind = 'invite' | 'reset'
type TokenInfo = Awaited<ReturnType<ProxyAuthApi['getUserToken']>>

const TOKEN = /^[0-9a-f]{32}$/
const GONE = 'This link is invalid, has expired or was already used.'
const GONE_HINT = 'Ask your administrator for a new one (tctl users reset <user>).'

export async function handleUserTokenPage(ctx: UserTokenPageContext, kind: Kind, token: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const remoteAddr = joinHostPort(plainIp(req.socket.remoteAddress), req.socket.remotePort ?? 0)
  const gone = (user = '') => {
    // A post to a dead link is someone trying it (an opened page is only a lookup).
    if (req.method === 'POST') ctx.refused({user, error: `${kind} link is invalid, expired or already used`, remoteAddr})
    return sendHtml(res, 404, renderMessagePage('Link not valid', GONE, GONE_HINT), PAGE_CSP)
  }
  const info = await lookUp(ctx, kind, token)
  if (!info) return gone()
  const secondFactor = (await ctx.authApi.ping()).secondFactor
  if (req.method === 'GET') return sendHtml(res, 200, await form(ctx, kind, token, info, secondFactor), PAGE_CSP)

  const fields = new URLSearchParams(await readBody(req, 'application/x-www-form-urlencoded', FORM_BODY_LIMIT))
  const again = async (status: number, error: string) => sendHtml(res, status, await form(ctx, kind, token, info, secondFactor, error), PAGE_CSP)
  if (!ctx.csrf.check(token, fields.get('csrf_token'))) {
    ctx.refused({user: info.user, error: `${kind} form posted without this page's CSRF field (a form from another site, or an old page)`, remoteAddr})
    return again(403, 'This form has expired. Please enter your details again.')
  }
  const password = fields.get('password') ?? ''
  const otpCode = (fields.get('otp_code') ?? '').replace(/\s+/g, '')
  if (password !== (fields.get('password_confirm') ?? '')) return again(400, 'The passwords do not match.')
  const length = [...password].length
  if (length < 6 || length > 128) return again(400, 'The password must be between 6 and 128 characters.')
  const codeRequired = secondFactor === 'otp' || secondFactor === 'on'
  if (codeRequired && !/^\d{6}$/.test(otpCode)) return again(400, 'Enter the 6-digit code shown by your authenticator app.')
  if (otpCode !== '' && !/^\d{6}$/.test(otpCode)) return again(400, 'The code from the authenticator app has 6 digits.')

  try {
    const {user} = await ctx.authApi.redeemUserToken({token, password, ...(secondFactor !== 'off' && otpCode ? {otpCode} : {})})
    const loginCommand = `tsh login --proxy=${ctx.publicWebAddr(req)} --user=${user}`
    return sendHtml(res, 200, renderUserTokenDone({user, kind, loginCommand}), PAGE_CSP)
  } catch (err) {
    if (err instanceof NotFoundError) return gone(info.user)
    if (err instanceof AccessDeniedError) {
      ctx.refused({user: info.user, error: `${kind} refused: ${(err as Error).message}`, remoteAddr})
      return again(403, sentence((err as Error).message))
    }
    if (err instanceof BadParameterError) return again(400, sentence((err as Error).message))
    throw err
  }
}

/** The token's details, or undefined for a link that is unknown, used, expired or of the other kind. */
async function lookUp(ctx: UserTokenPageContext, kind: Kind, token: string): Promise<TokenInfo | undefined> {
  if (!TOKEN.test(token)) return undefined
  try {
    const info = await ctx.authApi.getUserToken(token)
    return info.kind === kind ? info : undefined
  } catch (err) {
    if (err instanceof NotFoundError) return undefined
    throw err
  }
}

async function form(ctx: UserTokenPageContext, kind: Kind, token: string, info: TokenInfo, secondFactor: string, error?: string): Promise<string> {
  const totp =
    secondFactor === 'off'
      ? undefined
      : {qrDataUrl: await QRCode.toDataURL(info.totp.otpauthUrl, {errorCorrectionLevel: 'M', margin: 2, width: 200}), secret: info.totp.secret, required: secondFactor !== 'optional'}
  return renderUserTokenForm({
    kind,
    user: info.user,
    expires: new Date(info.expires),
    action: `/web/${kind}/${token}`,
    csrf: ctx.csrf.fieldFor(token),
    ...(totp ? {totp} : {}),
    ...(error ? {error} : {}),
  })
}

function sentence(message: string): string {
  const text = message.charAt(0).toUpperCase() + message.slice(1)
  return /[.!?]$/.test(text) ? text : `${text}.`
}
