import {generateTotpCode} from '../../src/services/totp.js'

// Codes for tests against a running auth server, which checks them on the real clock.

/**
 * TOTP codes for one user, as an authenticator app shows them. Auth accepts a code one 30 s step
 * either side of its own clock and never a step at or below the last one it took, so each code is
 * for the step after the last one given, and at least the current step (still valid 30 s or more
 * later, however slow the browser is to submit it); a code two steps ahead waits for the clock.
 */
export function totpCodes(secret: string): () => Promise<string> {
  const STEP_MS = 30_000
  let last = -Infinity
  return async () => {
    const step = Math.max(last + 1, Math.floor(Date.now() / STEP_MS))
    const acceptedFrom = (step - 1) * STEP_MS
    if (Date.now() < acceptedFrom) await new Promise((resolve) => setTimeout(resolve, acceptedFrom - Date.now()))
    last = step
    return generateTotpCode(secret, step * STEP_MS)
  }
}
