import type {UserAuthApi} from '../../api/auth-api.js'
import {AccessDeniedError, NotFoundError} from '../../lib/errors.js'
import {trackerNodeId} from '../../services/models/session-tracker.js'

// How many sessions each node has open (`tsh ls -v`), from the trackers the user may see.

/**
 * Open sessions per node host id; undefined when auth will not list them to this user (no role
 * allows seeing sessions) or does not know live sessions: the column is then left empty.
 */
export async function openSessionCounts(api: Pick<UserAuthApi, 'listSessionTrackers'>): Promise<Map<string, number> | undefined> {
  let trackers
  try {
    trackers = await api.listSessionTrackers()
  } catch (err) {
    if (err instanceof AccessDeniedError || err instanceof NotFoundError) return undefined
    throw err
  }
  const counts = new Map<string, number>()
  for (const t of trackers) counts.set(trackerNodeId(t), (counts.get(trackerNodeId(t)) ?? 0) + 1)
  return counts
}
