import {UsageError} from '../../lib/errors.js'

// Session ids are lowercase UUIDs (what auth's recording store accepts, and what keeps an id safe
// to use as a file name).

const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

export function isSessionId(text: string): boolean {
  return SESSION_ID.test(text)
}

export function assertSessionId(text: string): string {
  if (!isSessionId(text)) throw new UsageError(`${JSON.stringify(text)} is not a session id`, {hint: 'session ids are UUIDs, as tsh recordings ls shows them'})
  return text
}
