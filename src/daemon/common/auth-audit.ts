import type {AuthApi} from '../../api/auth-api.js'
import {BufferedEmitter, EventJournal, type Emitter} from '../../events/index.js'
import type {Clock} from '../../lib/clock.js'
import type {Logger} from '../../lib/log.js'

// Where a node's or a proxy's audit events go: to auth, through the auth API, behind a
// BufferedEmitter journaled on disk so that an auth outage, a restart or a crash loses none.

/** The auth API as an Emitter: resolves once auth has stored the event. */
export function authApiEmitter(api: Pick<AuthApi, 'emitEvent'>): Emitter {
  return {emit: (event) => api.emitEvent(event)}
}

/** Replays the journal left by the last run and starts sending (its events first). */
export async function openAuthAudit(api: Pick<AuthApi, 'emitEvent'>, options: {journalFile: string; log: Logger; clock: Clock}): Promise<BufferedEmitter> {
  const saved = await EventJournal.open(options.journalFile, options.log)
  return new BufferedEmitter(authApiEmitter(api), {log: options.log, clock: options.clock, saved})
}
