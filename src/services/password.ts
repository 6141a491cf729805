// Password hashing: bcrypt over the password's SHA-256 (base64), so the whole password counts
// (bcrypt alone ignores everything past 72 bytes, and 128 characters can be 512 bytes).
import {createHash} from 'node:crypto'
import bcrypt from 'bcrypt'
import {BadParameterError} from '../lib/errors.js'

export const PASSWORD_MIN_LENGTH = 6
export const PASSWORD_MAX_LENGTH = 128
export const DEFAULT_BCRYPT_COST = 10

/** Length counted in characters (code points), 6..128. */
export function assertPasswordLength(password: unknown): asserts password is string {
  const length = typeof password === 'string' ? [...password].length : -1
  if (length < PASSWORD_MIN_LENGTH || length > PASSWORD_MAX_LENGTH) {
    throw new BadParameterError(`password must be between ${PASSWORD_MIN_LENGTH} and ${PASSWORD_MAX_LENGTH} characters`)
  }
}

function prehash(password: string): string {
  return createHash('sha256').update(password, 'utf8').digest('base64')
}

export async function hashPassword(password: string, cost: number = DEFAULT_BCRYPT_COST): Promise<string> {
  assertPasswordLength(password)
  return bcrypt.hash(prehash(password), cost)
}

export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  if (typeof password !== 'string' || typeof hash !== 'string' || hash === '') return false
  try {
    return await bcrypt.compare(prehash(password), hash)
  } catch {
    return false
  }
}

const dummyHashes = new Map<number, Promise<string>>()

/** Spends as long as a real check, for users that don't exist or have no password. */
export async function burnPasswordCheck(password: string, cost: number = DEFAULT_BCRYPT_COST): Promise<void> {
  let dummy = dummyHashes.get(cost)
  if (!dummy) {
    dummy = bcrypt.hash(prehash('not the password of anyone'), cost)
    dummyHashes.set(cost, dummy)
  }
  await verifyPassword(typeof password === 'string' ? password : '', await dummy)
}

/** The bcrypt work of a login check: a seam so tests can count it. */
export interface PasswordChecker {
  verify(password: string, hash: string): Promise<boolean>
  /** As long as verify, for a user without a hash. */
  burn(password: string, cost: number): Promise<void>
}

export const bcryptPasswordChecker: PasswordChecker = {verify: verifyPassword, burn: burnPasswordCheck}
