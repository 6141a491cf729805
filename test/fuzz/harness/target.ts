import type fc from 'fast-check'
import {UserError} from '../../../src/lib/errors.js'

// One fuzz target: a parser fed by a structure-aware arbitrary. The property every target
// shares: `run` returns (or resolves), or throws one of `refusals` (the parser saying "bad
// input" in our own words). Anything else thrown — a TypeError, a RangeError, an assertion of a
// round-trip — is a finding. Hangs are caught by the runner's watchdog.

export type ErrorClass = abstract new (...args: never[]) => Error

export interface FuzzTarget<T = unknown> {
  /** Also the corpus directory name: test/fuzz/corpus/<name>/. */
  name: string
  arbitrary: fc.Arbitrary<T>
  run(input: T): unknown
  /** The error classes that mean "refused, as designed"; default: our UserError family. Round-trips use []. */
  refusals?: ErrorClass[]
  /** Runs in `npm test` when this target is slow (signing, RSA keys); default the suite's. */
  testRuns?: number
}

export const USER_ERRORS: ErrorClass[] = [UserError]

export function target<T>(t: FuzzTarget<T>): FuzzTarget<unknown> {
  return t as FuzzTarget<unknown>
}

/** Calls the target once; throws only when the property is broken. */
export async function runOnce(t: FuzzTarget, input: unknown): Promise<void> {
  try {
    await t.run(input)
  } catch (err) {
    if ((t.refusals ?? USER_ERRORS).some((cls) => err instanceof cls)) return
    throw err
  }
}
