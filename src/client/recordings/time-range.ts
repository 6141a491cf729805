import {BadParameterError, UsageError} from '../../lib/errors.js'
import {parseTimeFlag} from '../../lib/time-flag.js'
import {parseDuration} from '../../services/duration.js'

// The time range `tsh recordings ls` searches: --from-utc/--to-utc, or the --last window
// before --to-utc (default: now), 24 hours unless told otherwise.

export const DEFAULT_LAST = '24h'

export interface RangeFlags {
  'from-utc'?: string
  'to-utc'?: string
  last?: string
}

const DAY_MS = 86_400_000

/** A --last window: a Go duration (24h, 30m, 1h30m), days (7d) or both (1d12h). */
export function parseLast(text: string): number {
  const days = /^(\d+)d(.*)$/.exec(text.trim())
  let ms: number
  try {
    ms = days ? Number(days[1]) * DAY_MS + (days[2] ? parseDuration(days[2]) : 0) : parseDuration(text)
  } catch (err) {
    if (!(err instanceof BadParameterError)) throw err
    throw new UsageError(`--last: ${JSON.stringify(text)} is not a duration`, {hint: 'use e.g. 24h, 30m or 7d'})
  }
  if (!(ms > 0)) throw new UsageError('--last must be longer than 0')
  return ms
}

export function recordingsRange(flags: RangeFlags, now: Date): {from: Date; to: Date} {
  if (flags['from-utc'] !== undefined && flags.last !== undefined) throw new UsageError('give --from-utc or --last, not both')
  const to = flags['to-utc'] === undefined ? now : parseTimeFlag(flags['to-utc'], 'to', '--to-utc')
  const from = flags['from-utc'] === undefined
    ? new Date(to.getTime() - parseLast(flags.last ?? DEFAULT_LAST))
    : parseTimeFlag(flags['from-utc'], 'from', '--from-utc')
  if (from.getTime() > to.getTime()) throw new UsageError(`--from-utc (${from.toISOString()}) is after --to-utc (${to.toISOString()})`)
  return {from, to}
}
