// Shared setup for the services tests: a MemoryBackend on a FakeClock, closed after each test.
import {afterEach} from 'node:test'
import {MemoryBackend} from '../../../src/backend/index.js'
import {FakeClock} from '../../../src/lib/clock.js'
import {newRole, type RoleSpecInput} from '../../../src/services/roles.js'
import {generateTotpCode} from '../../../src/services/totp.js'

export const TEST_BCRYPT_COST = 4

const open: MemoryBackend[] = []
afterEach(async () => {
  for (const backend of open.splice(0)) await backend.close()
})

export function setup(start: Date | number = Date.UTC(2026, 0, 1)): {clock: FakeClock; backend: MemoryBackend} {
  const clock = new FakeClock(start)
  const backend = new MemoryBackend(clock, {sweepIntervalMs: 3_600_000})
  open.push(backend)
  return {clock, backend}
}

export function role(name: string, spec: RoleSpecInput) {
  return newRole(name, spec)
}

export const MINUTE = 60_000
export const HOUR = 60 * MINUTE

/** A 6-digit code that is not valid for `secret` anywhere in the ±1 period window around `nowMs`. */
export function wrongCode(secret: string, nowMs: number): string {
  const valid = new Set([-30_000, 0, 30_000].map((d) => generateTotpCode(secret, nowMs + d)))
  for (let n = 0; ; n++) {
    const code = String(n).padStart(6, '0')
    if (!valid.has(code)) return code
  }
}
