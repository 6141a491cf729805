// Argument and condition checks every implementation applies the same way, so they fail alike.
import {BadParameterError, CompareFailedError, NotFoundError} from '../lib/errors.js'
import type {Condition, Operation} from './backend.js'
import {assertValidKey} from './keys.js'

/** Milliseconds since the epoch, or undefined for "never expires"; refuses an Invalid Date. */
export function expiryMillis(expires: Date | undefined): number | undefined {
  if (expires === undefined) return undefined
  const ms = expires instanceof Date ? expires.getTime() : NaN
  if (!Number.isFinite(ms)) throw new BadParameterError('item expiry must be a valid Date')
  return ms
}

export function assertValidAtomicWrite(operations: readonly Operation[], conditions: readonly Condition[]): void {
  for (const condition of conditions) assertValidKey(condition.key)
  const seen = new Set<string>()
  for (const operation of operations) {
    const key = operation.op === 'put' ? operation.item.key : operation.key
    assertValidKey(key)
    if (operation.op === 'put') expiryMillis(operation.item.expires)
    // etcd refuses two operations on one key in a transaction; refuse everywhere so code that
    // passes on SQLite does not fail on etcd.
    if (seen.has(key)) throw new BadParameterError(`atomic write names key ${JSON.stringify(key)} more than once`)
    seen.add(key)
  }
}

/** Throws CompareFailedError naming the key unless `condition` holds for `currentValue` (undefined: missing or expired). */
export function assertConditionHolds(condition: Condition, currentValue: string | undefined): void {
  const holds =
    condition.kind === 'exists'
      ? currentValue !== undefined
      : condition.kind === 'not-exists'
        ? currentValue === undefined
        : currentValue === condition.value
  if (!holds) {
    throw new CompareFailedError(`condition "${condition.kind}" failed for key ${JSON.stringify(condition.key)}`)
  }
}

/** The live item at `key`, which the operation needs: NotFoundError when there is none. */
export function mustExist<T>(key: string, item: T | undefined): T {
  if (!item) throw new NotFoundError(`key ${JSON.stringify(key)} not found`)
  return item
}

/** compareAndSwap's check: throws CompareFailedError unless `key` still holds `expectedValue`. */
export function assertUnchanged(key: string, current: {value: string}, expectedValue: string): void {
  if (current.value !== expectedValue) throw new CompareFailedError(`value of key ${JSON.stringify(key)} has changed`)
}

export function assertValidAfterRevision(afterRevision: number | undefined): void {
  if (afterRevision === undefined) return
  if (!Number.isSafeInteger(afterRevision) || afterRevision < 0) {
    throw new BadParameterError(`watch afterRevision must be a non-negative integer, got ${afterRevision}`)
  }
}

export function assertValidLimit(limit: number | undefined): void {
  if (limit === undefined) return
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new BadParameterError(`getRange limit must be a non-negative integer, got ${limit}`)
  }
}
