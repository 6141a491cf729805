import type net from 'node:net'
import type {AuthServers} from '../../api/auth-servers.js'
import {dialTcp} from './node-dialer.js'

// The proxy's raw byte pipe to the auth API (`proxy:@<cluster>`, ALPN teleport-auth@): a TCP
// connection to the auth server in use, or, when it cannot be reached, to the next of the
// cluster's in turn (the list the proxy's own API client uses, so both move together).

export function dialAuthServer(servers: AuthServers, options: {timeoutMs?: number; signal?: AbortSignal} = {}): Promise<net.Socket> {
  return servers.inTurn(
    ({host, port}) => dialTcp(host, port, options),
    () => !options.signal?.aborted,
  )
}
