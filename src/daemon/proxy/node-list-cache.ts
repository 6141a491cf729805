import type {ProxyAuthApi, NodeInfo} from '../../api/auth-api.js'
import type {Clock} from '../../lib/clock.js'
import type {Logger} from '../../lib/log.js'
import {LastGood} from '../common/last-good.js'

/**
 * The node list, fetched from auth at most every few seconds: a burst of connections (tsh bench,
 * parallel `tsh ssh` on a label selector) costs one listing, not one each. While auth is away the
 * last list serves (last-good.ts), so `tsh ssh` through the proxy keeps working.
 */
export type NodeListCache = LastGood<NodeInfo[]>

export function nodeListCache(authApi: ProxyAuthApi, options: {clock?: Clock; log?: Logger} = {}): NodeListCache {
  return new LastGood(() => authApi.listNodes(), {what: 'node list', freshMs: 3_000, ...options})
}
