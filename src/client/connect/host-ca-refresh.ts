import type {ConnectIdentity} from './identity.js'

// A host CA rotation seen from tsh: the proxy or a node presents a certificate from a host CA key
// not in known_hosts yet. The connection is tried again once, after learning the keys from the
// proxy (over its pinned HTTPS), and only if that taught us a key we did not have.

export async function withHostCARefresh<T>(identity: ConnectIdentity, connect: () => Promise<T>, log?: (line: string) => void): Promise<T> {
  try {
    return await connect()
  } catch (err) {
    if (!identity.refreshHostCAs || (err as {cause?: {reason?: string}}).cause?.reason !== 'untrusted-ca') throw err
    const keys = await identity.refreshHostCAs().catch(() => undefined)
    if (!keys || keys.every((k) => identity.hostCAs.some((known) => sameKey(known, k)))) throw err
    log?.('a host certificate from a host CA key new to known_hosts: the keys were updated from the proxy')
    identity.hostCAs = keys
    return connect()
  }
}

function sameKey(a: string, b: string): boolean {
  const bare = (line: string) => line.trim().split(/\s+/).slice(0, 2).join(' ')
  return bare(a) === bare(b)
}
