import {UsageError} from './errors.js'

// A time given on the command line (`tctl events ls --from`, `tsh recordings ls --from-utc`):
// RFC 3339, or a UTC day that stands for its start or, as an upper bound, its end.

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/
/** RFC 3339 with a zone (Z or ±hh:mm), seconds and fraction optional. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i

/**
 * A lower (`from`) or upper (`to`) bound: RFC 3339, or a UTC day (YYYY-MM-DD: its start for
 * `from`, its last millisecond for `to`, so that from D to D is the whole day). `flagName` is
 * how messages name the flag.
 */
export function parseTimeFlag(text: string, bound: 'from' | 'to', flagName = `--${bound}`): Date {
  const dayOnly = DATE_ONLY.test(text)
  const ms = dayOnly ? Date.parse(`${text}T00:00:00.000Z`) : RFC3339.test(text) ? Date.parse(text) : Number.NaN
  // The round trip refuses days V8 would roll over (2026-02-30).
  if (Number.isNaN(ms) || (dayOnly && new Date(ms).toISOString().slice(0, 10) !== text)) {
    throw new UsageError(`${flagName}: ${JSON.stringify(text)} is not a time`, {hint: 'use RFC 3339 (2026-11-21T09:30:00Z) or a UTC day (2026-11-21)'})
  }
  return new Date(dayOnly && bound === 'to' ? ms + 86_400_000 - 1 : ms)
}
