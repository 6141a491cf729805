// The proxy model: the presence record each proxy writes (Teleport's `proxy` resource), what
// `tctl get proxies` prints and what proxies tell reverse tunnel agents. ProxyService
// (../proxies.ts) stores the records.
import {BadParameterError} from '../../lib/errors.js'
import {hasControlChars} from '../../lib/safe-text.js'
import {checkNodeHostname, MAX_LABEL_VALUE} from './node.js'
import {assertValidName, isPlainObject} from './resource.js'

export interface ProxyRecord {
  /** The proxy's host UUID (its host certificate's key id): what tunnel agents tell proxies apart by. */
  name: string
  hostname: string
  /** host:port of its SSH port (proxy_service.listen_addr as announced). */
  addr: string
  /** host:port of its web address: public_addr, else the web listen address; where agents dial it. */
  publicAddr: string
  version: string
}

export interface ServerProxy extends ProxyRecord {
  expires: Date
}

/** A proxy record as a proxy may write it: BadParameterError names the field. */
export function validateProxy(proxy: ProxyRecord): ProxyRecord {
  if (!isPlainObject(proxy)) throw new BadParameterError('a proxy record must be an object')
  assertValidName('proxy', proxy.name)
  const where = `proxy ${JSON.stringify(proxy.name)}`
  for (const field of ['hostname', 'addr', 'publicAddr', 'version'] as const) {
    if (typeof proxy[field] !== 'string') throw new BadParameterError(`${where}: ${field} must be a string`)
    if (hasControlChars(proxy[field]) || proxy[field].length > MAX_LABEL_VALUE) throw new BadParameterError(`${where}: ${field} must be printable text of at most ${MAX_LABEL_VALUE} characters`)
  }
  checkNodeHostname(proxy.hostname)
  return {name: proxy.name, hostname: proxy.hostname, addr: proxy.addr, publicAddr: proxy.publicAddr, version: proxy.version}
}
