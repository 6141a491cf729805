import type {Duplex} from 'node:stream'
import ssh2 from 'ssh2'
import type {NodeInfo} from '../../../api/auth-api.js'
import {verifyCert} from '../../../sshca/index.js'
import {agentAuthOptions, CERT_HOST_KEY_ALGORITHMS, failOnCloseBeforeReady, isCertAlgorithm, PLAIN_HOST_KEY_ALGORITHMS, withHostKeyAlgorithms} from '../../../ssh/index.js'

// The recording proxy's own connection to the node, as the user: over the stream the router
// dialled (our nodes got the signed preamble first), authenticated by the certificate the user's
// forwarded agent offers. With proxy_checks_host_keys the node must present a host certificate
// from the cluster's host CA naming it (Teleport's words when it does not); without, any key.

export const PLAIN_HOST_KEY_MESSAGE = 'remote host presented a public key, expected a host certificate'

export interface UpstreamOptions {
  node: NodeInfo
  login: string
  agent: ssh2.BaseAgent
  /** Host CA keys the node's certificate must come from; undefined: the host key is not checked. */
  hostCAs: string[] | undefined
  readyTimeoutMs?: number
}

/** Why the node's host key was refused, told to the user. */
function hostKeyRefusal(key: Buffer, node: NodeInfo, hostCAs: string[]): string | undefined {
  const type = key.subarray(4, 4 + key.readUInt32BE(0)).toString('latin1')
  if (!isCertAlgorithm(type)) return PLAIN_HOST_KEY_MESSAGE
  // Any of the names the node is known by (a registered sshd's certificate has the names its admin chose).
  const names = [...new Set([node.name, node.hostname, node.addr.replace(/:\d+$/, '').replace(/^\[|\]$/g, '')])]
  let last: Error | undefined
  for (const principal of names) {
    try {
      verifyCert(key, {trustedCAs: hostCAs, type: 'host', principal})
      return undefined
    } catch (err) {
      last = err as Error
    }
  }
  return `the node's host certificate is not valid: ${last?.message ?? 'no name to check'}`
}

export function connectUpstream(stream: Duplex, options: UpstreamOptions): Promise<ssh2.Client> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client()
    let refusal: string | undefined
    const fail = (err: Error & {level?: string}) => {
      client.end()
      stream.destroy()
      if (refusal) reject(new Error(refusal))
      else if (err.level === 'client-authentication') reject(new Error(`access denied to ${options.login} connecting to ${options.node.hostname}: the node refused the certificate offered by the forwarded agent`))
      else reject(err)
    }
    client.once('error', fail)
    failOnCloseBeforeReady(client, fail)
    client.once('ready', () => {
      client.off('error', fail)
      client.on('error', () => {}) // the sessions see the channel close
      resolve(client)
    })
    const {hostCAs} = options
    client.connect({
      sock: stream as never,
      ...agentAuthOptions({username: options.login, agent: options.agent}),
      hostVerifier: (key: Buffer) => {
        if (!hostCAs) return true
        refusal = hostKeyRefusal(key, options.node, hostCAs)
        return refusal === undefined
      },
      algorithms: withHostKeyAlgorithms([...CERT_HOST_KEY_ALGORITHMS, ...PLAIN_HOST_KEY_ALGORITHMS], {}),
      readyTimeout: options.readyTimeoutMs ?? 30_000,
    })
  })
}
