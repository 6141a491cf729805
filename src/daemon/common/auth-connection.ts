import type {Duplex} from 'node:stream'
import {AuthServers} from '../../api/auth-servers.js'
import {ApiClient} from '../../api/client.js'
import {dialAuthPipe} from '../../api/auth-via-proxy-web.js'
import type {AuthApi} from '../../api/auth-api.js'
import {AuthApiClient} from '../../api/auth-api-client.js'
import type {JoinedIdentity} from './joined-identity.js'

// A joined host's connection to the auth API, authenticated by its host certificate: straight
// to the auth address, or, for a host that joined through a proxy, over the proxy's SSH port and
// its `proxy:@<cluster>` subsystem (the proxy pipes that channel to the auth API; the API's own
// SSH connection, certificates both ways, runs inside it).
//
// To the proxy the host logs in with its host certificate as username <host UUID>; it trusts the
// proxy when the proxy presents a Proxy host certificate from the cluster's host CA.

/**
 * `dial`: where the API's stream comes from instead (a node behind a firewall: its reverse tunnel).
 * `authServers`: the configured auth servers (after the joined route's address, tried in turn when it
 * cannot be reached: several auth servers sharing one backend), or a list the caller's other
 * connections to auth share.
 */
export function connectToAuth(identity: JoinedIdentity, options: {dial?: () => Promise<Duplex>; authServers?: AuthServers | ReadonlyArray<{host: string; port: number}>} = {}): AuthApi {
  // Read at each connection: a CA rotation renews the certificate and the trusted keys in place.
  const credentials = {
    get privateKey() {
      return identity.privateKey
    },
    get certificate() {
      return identity.certificate
    },
  }
  const trust = {
    get hostCAs() {
      return identity.hostCAs
    },
  }
  const route = identity.authRoute
  const dial = options.dial ?? (route.kind === 'proxy' ? () => dialAuthThroughProxy(identity) : undefined)
  const addr = route.kind === 'auth' ? route.addr : route.sshAddr
  if (dial) return new AuthApiClient(new ApiClient({host: addr.host, port: addr.port, credentials, trust, dial}))
  const servers = options.authServers instanceof AuthServers ? options.authServers : new AuthServers([addr, ...(options.authServers ?? [])])
  return new AuthApiClient(new ApiClient({servers, credentials, trust}))
}

/** An SSH channel to the proxy's `proxy:@<cluster>` subsystem; closing it ends the proxy connection. */
export function dialAuthThroughProxy(identity: JoinedIdentity): Promise<Duplex> {
  const route = identity.authRoute
  if (route.kind !== 'proxy') throw new Error('dialAuthThroughProxy needs a proxy route')
  return dialAuthPipe(route.tlsRouting ? route.webAddr : route.sshAddr, identity.clusterName, {username: identity.hostUuid, privateKey: identity.privateKey, certificate: identity.certificate, hostCAs: identity.hostCAs}, {tlsRouting: route.tlsRouting === true})
}
