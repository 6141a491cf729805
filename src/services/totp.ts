// TOTP second factor (RFC 6238): 6 digits, 30 s period, SHA1, accepting one period either side.
// Replay protection lives with the caller: it records the counter of the last code used and
// refuses any code whose counter is not newer.
import {Secret, TOTP} from 'otpauth'

export const TOTP_DIGITS = 6
export const TOTP_PERIOD_S = 30
export const TOTP_ALGORITHM = 'SHA1'
export const TOTP_WINDOW = 1

/** A new random secret (20 bytes), base32 as authenticator apps take it. */
export function newTotpSecret(): string {
  return new Secret({size: 20}).base32
}

function totp(secret: string, issuer = '', label = 'OTPAuth'): TOTP {
  return new TOTP({secret: Secret.fromBase32(secret), issuer, label, algorithm: TOTP_ALGORITHM, digits: TOTP_DIGITS, period: TOTP_PERIOD_S})
}

/** otpauth://totp/<issuer>:<account>?secret=...: what the QR code on the invite page encodes. */
export function totpUrl(secret: string, account: string, issuer: string): string {
  return totp(secret, issuer, account).toString()
}

/** The code valid at `nowMs` (tests, and nothing else in production). */
export function generateTotpCode(secret: string, nowMs: number): string {
  return totp(secret).generate({timestamp: nowMs})
}

/**
 * The time-step counter the code belongs to, if it is valid at `nowMs` within ±1 period;
 * null otherwise. (otpauth's validate returns the delta, where 0 is a valid code.)
 */
export function totpCodeCounter(secret: string, code: string, nowMs: number): number | null {
  if (typeof code !== 'string') return null
  const digits = code.replace(/\s+/g, '')
  if (!new RegExp(`^\\d{${TOTP_DIGITS}}$`).test(digits)) return null
  let generator: TOTP
  try {
    generator = totp(secret)
  } catch {
    return null
  }
  const delta = generator.validate({token: digits, timestamp: nowMs, window: TOTP_WINDOW})
  if (delta === null) return null
  return generator.counter({timestamp: nowMs}) + delta
}
