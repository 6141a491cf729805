import type {Connection} from 'ssh2'
import {disconnectWith} from '../../ssh/server-internals.js'

// How a node, or a recording proxy standing in for one, ends a logged-in connection when a lock or
// a deletion reaches its user: each session shows the message, then the DISCONNECT says it again
// (a connection with no session yet learns why too).

/** How long the sessions get to take the message before the connection closes. */
const END_MESSAGE_GRACE_MS = 5_000

export interface EndableSession {
  /** Shows `message` on the session's stderr and ends it. */
  endWith(message: string): Promise<void>
}

export async function endConnectionWith(client: Connection, sessions: Iterable<EndableSession>, message: string): Promise<void> {
  const text = `Teleport > ${message}`
  // A client that stops reading must not keep its connection open: the message gets a moment, no more.
  let timer: NodeJS.Timeout | undefined
  const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, END_MESSAGE_GRACE_MS)))
  await Promise.race([Promise.all([...sessions].map((session) => session.endWith(text))), grace])
  clearTimeout(timer)
  disconnectWith(client, text)
}
