// Go-style duration strings ("8h", "30m", "1h30m", "90s", "1.5h"), as Teleport writes them in
// role options and token TTLs, converted to and from milliseconds.
import {BadParameterError} from '../lib/errors.js'

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
}

const WHOLE = /^(?:\d+(?:\.\d+)?|\.\d+)(?:ns|us|µs|ms|s|m|h)(?:(?:\d+(?:\.\d+)?|\.\d+)(?:ns|us|µs|ms|s|m|h))*$/
const PART = /(\d+(?:\.\d+)?|\.\d+)(ns|us|µs|ms|s|m|h)/g

/** Milliseconds in a duration string; "0" alone is allowed. Throws BadParameterError naming the value. */
export function parseDuration(text: string): number {
  if (typeof text !== 'string') throw new BadParameterError(`invalid duration ${JSON.stringify(text)}: expected a string like "8h", "30m" or "1h30m"`)
  const trimmed = text.trim()
  if (trimmed === '0') return 0
  if (!WHOLE.test(trimmed)) {
    throw new BadParameterError(`invalid duration ${JSON.stringify(text)}: expected a string like "8h", "30m" or "1h30m"`)
  }
  let total = 0
  for (const match of trimmed.matchAll(PART)) total += Number(match[1]) * UNIT_MS[match[2]!]!
  return Math.round(total)
}

/** Go's time.Duration.String() for whole milliseconds: "12h0m0s", "30m0s", "1.5s", "0s". */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s'
  const sign = ms < 0 ? '-' : ''
  let rest = Math.abs(ms)
  if (rest < 1000) return `${sign}${rest}ms`
  const hours = Math.floor(rest / 3_600_000)
  rest -= hours * 3_600_000
  const minutes = Math.floor(rest / 60_000)
  rest -= minutes * 60_000
  const seconds = (rest / 1000).toFixed(3).replace(/\.?0+$/, '')
  if (hours > 0) return `${sign}${hours}h${minutes}m${seconds}s`
  if (minutes > 0) return `${sign}${minutes}m${seconds}s`
  return `${sign}${seconds}s`
}
