import type {Duplex} from 'node:stream'
import ssh2 from 'ssh2'
import {ApiClient} from '../../api/client.js'
import type {AuthApi} from '../../api/auth-api.js'
import {AuthApiClient} from '../../api/auth-api-client.js'
import {AccessDeniedError, UserError} from '../../lib/errors.js'
import {verifyCert} from '../../sshca/index.js'
import {CERT_HOST_KEY_ALGORITHMS, withHostKeyAlgorithms} from '../../ssh/index.js'
import type {JoinedIdentity} from './joined-identity.js'

// A joined host's connection to the auth API, authenticated by its host certificate: straight
// to the auth address, or, for a host that joined through a proxy, over the proxy's SSH port and
// its `proxy:@<cluster>` subsystem (the proxy pipes that channel to the auth API; the API's own
// SSH connection, certificates both ways, runs inside it).
//
// To the proxy the host logs in with its host certificate as username <host UUID>; it trusts the
// proxy when the proxy presents a Proxy host certificate from the cluster's host CA.

export function connectToAuth(identity: JoinedIdentity): AuthApi {
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
  if (route.kind === 'auth') return new AuthApiClient(new ApiClient({host: route.addr.host, port: route.addr.port, credentials, trust}))
  return new AuthApiClient(
    new ApiClient({
      host: route.sshAddr.host,
      port: route.sshAddr.port,
      credentials,
      trust,
      dial: () => dialAuthThroughProxy(identity),
    }),
  )
}

const CONNECT_TIMEOUT_MS = 15_000

/** An SSH channel to the proxy's `proxy:@<cluster>` subsystem; closing it ends the proxy connection. */
export function dialAuthThroughProxy(identity: JoinedIdentity): Promise<Duplex> {
  const route = identity.authRoute
  if (route.kind !== 'proxy') throw new Error('dialAuthThroughProxy needs a proxy route')
  const where = `${route.sshAddr.host}:${route.sshAddr.port}`
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client()
    let refusal: Error | undefined
    let settled = false
    const fail = (err: Error) => {
      if (settled) return
      settled = true
      client.end()
      reject(refusal ?? new UserError(`cannot reach the auth server through the proxy at ${where}: ${err.message}`))
    }
    client.on('error', fail)
    client.once('close', () => fail(new Error('the proxy closed the connection')))
    client.once('ready', () => {
      client.subsys(`proxy:@${identity.clusterName}`, (err, channel) => {
        if (err) return fail(new Error(`the proxy refused subsystem proxy:@${identity.clusterName}: ${err.message}`))
        settled = true
        channel.once('close', () => client.end())
        resolve(channel as unknown as Duplex)
      })
    })
    client.connect({
      host: route.sshAddr.host,
      port: route.sshAddr.port,
      username: identity.hostUuid,
      privateKey: identity.privateKey,
      certificate: identity.certificate,
      readyTimeout: CONNECT_TIMEOUT_MS,
      algorithms: withHostKeyAlgorithms([...CERT_HOST_KEY_ALGORITHMS]),
      hostVerifier: (key: Buffer) => {
        try {
          const cert = verifyCert(key, {type: 'host', trustedCAs: identity.hostCAs})
          if (cert.hostRole !== 'Proxy') throw new AccessDeniedError(`the server at ${where} is a ${cert.hostRole ?? 'role-less'} host, not a proxy`)
          return true
        } catch (err) {
          refusal = err as Error
          return false
        }
      },
    } as ssh2.ConnectConfig)
  })
}
