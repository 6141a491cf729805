import type {Duplex} from 'node:stream'
import type ssh2 from 'ssh2'
import {ApiClient} from '../../api/client.js'
import {UserError} from '../../lib/errors.js'
import type {UserAuthApi} from '../../api/auth-api.js'
import {AuthApiClient} from '../../api/auth-api-client.js'
import {proxySshAddress, type ConnectIdentity} from './identity.js'
import {authSubsystem, openSubsystem, type NodeStream} from './node-stream.js'
import {connectToProxy} from './proxy.js'
import {hangUp} from '../../ssh/index.js'

// The auth API as a user reaches it: through the proxy's `proxy:@<cluster>` pipe, the API's own
// SSH connection inside it, authenticated by the user's certificate (the auth server decides what
// the user may see: `tsh ls` lists only nodes the user's roles can reach).

class ProxiedAuthApi extends AuthApiClient {
  constructor(client: ApiClient, private readonly proxies: Set<ssh2.Client>) {
    super(client)
  }

  override async close(): Promise<void> {
    await super.close()
    for (const proxy of this.proxies) hangUp(proxy)
    this.proxies.clear()
  }
}

export interface AuthViaProxyOptions {
  cluster?: string
  /** Reuse this proxy connection for the first dial. */
  proxyConn?: ssh2.Client
  log?: (line: string) => void
}

export function authApiViaProxy(identity: ConnectIdentity, options: AuthViaProxyOptions = {}): UserAuthApi {
  if (identity.agentOnly) {
    // The API client signs with a key in hand; agent signing is not wired into it.
    throw new UserError('listing nodes needs your private key on disk, but this login keeps it only in the SSH agent', {hint: 'log in again without --add-keys-to-agent=only'})
  }
  const cluster = options.cluster ?? identity.profile.cluster
  const owned = new Set<ssh2.Client>()
  let lent = options.proxyConn
  let lastStream: NodeStream | undefined
  const dial = async (): Promise<Duplex> => {
    let proxy = lent
    lent = undefined
    if (!proxy) {
      proxy = await connectToProxy(identity, options.log ? {log: options.log} : {})
      owned.add(proxy)
    }
    const stream = await openSubsystem(proxy, authSubsystem(cluster))
    lastStream = stream
    options.log?.(`auth API of ${cluster} through the proxy`)
    return stream.channel as unknown as Duplex
  }
  const address = proxySshAddress(identity.profile)
  const client = new ApiClient({
    host: address.host,
    port: address.port,
    credentials: {privateKey: identity.privateKey, certificate: identity.certificate},
    trust: {hostCAs: identity.hostCAs},
    dial,
  })
  // When the proxy refused the pipe (an unknown cluster, auth unreachable), its reason beats the
  // API client's "connection lost".
  const request = client.request.bind(client)
  client.request = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    try {
      return await request<T>(method, path, body)
    } catch (err) {
      const stream = lastStream
      if (stream && (stream.isClosed || stream.exitCode !== undefined)) {
        const reason = await stream.failure()
        if (reason) throw reason
      }
      throw err
    }
  }
  return new ProxiedAuthApi(client, owned)
}
