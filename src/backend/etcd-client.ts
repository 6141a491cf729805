// The connection to etcd: one etcd3 client per backend, every unary call with a deadline, TLS
// and password auth from configuration, and etcd's failures turned into our error classes.
import {readFileSync} from 'node:fs'
import {Etcd3, type IOptions} from 'etcd3'
import {BadParameterError, ConnectionProblemError, UserError} from '../lib/errors.js'

export interface EtcdBackendConfig {
  type: 'etcd'
  /** Client URLs of the etcd members (http:// or https://). */
  peers: string[]
  /** Every key lives under this prefix ("/teleport"); no trailing slash. */
  prefix: string
  tlsCertFile?: string
  tlsKeyFile?: string
  tlsCaFile?: string
  username?: string
  passwordFile?: string
  /** How long one call to etcd may take, retries included; default 5 s. */
  callTimeoutMs?: number
}

export const DEFAULT_CALL_TIMEOUT_MS = 5_000

export function createEtcdClient(config: EtcdBackendConfig): Etcd3 {
  const timeout = config.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS
  const options: IOptions = {
    hosts: config.peers,
    dialTimeout: timeout,
    // Streams (watches) live as long as their watcher; every other call has a deadline, so a
    // down etcd is an error after `timeout`, not a hang.
    defaultCallOptions: (context) => (context.isStream ? {} : {deadline: Date.now() + timeout}),
  }
  if (config.tlsCaFile || config.tlsCertFile || config.tlsKeyFile) {
    if (!config.tlsCaFile) throw new BadParameterError('teleport.storage.tls_ca_file is required with tls_cert_file and tls_key_file')
    if (!config.tlsCertFile !== !config.tlsKeyFile) {
      throw new BadParameterError('teleport.storage: give both tls_cert_file and tls_key_file, or neither')
    }
    options.credentials = {
      rootCertificate: readConfigFile(config.tlsCaFile, 'tls_ca_file'),
      certChain: config.tlsCertFile ? readConfigFile(config.tlsCertFile, 'tls_cert_file') : undefined,
      privateKey: config.tlsKeyFile ? readConfigFile(config.tlsKeyFile, 'tls_key_file') : undefined,
    }
  }
  if (config.username !== undefined) {
    if (!config.passwordFile) throw new BadParameterError('teleport.storage.password_file is required with username')
    options.auth = {username: config.username, password: readConfigFile(config.passwordFile, 'password_file').toString('utf8').trim()}
  }
  return new Etcd3(options)
}

function readConfigFile(path: string, key: string): Buffer {
  try {
    return readFileSync(path)
  } catch (error) {
    throw new BadParameterError(`teleport.storage.${key}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`)
  }
}

/**
 * Runs one request against etcd with an overall deadline (the client's retries included), and
 * turns anything etcd or the transport throws into ConnectionProblemError; our own errors pass.
 */
export async function withEtcd<T>(peers: readonly string[], timeoutMs: number, work: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)
  })
  try {
    return await Promise.race([work(), deadline])
  } catch (error) {
    throw toUserError(error, peers)
  } finally {
    clearTimeout(timer)
  }
}

export function toUserError(error: unknown, peers: readonly string[]): Error {
  if (error instanceof UserError) return error
  const message = error instanceof Error ? error.message : String(error)
  if (/too many operations in txn/.test(message)) {
    return new BadParameterError(`etcd refused the transaction: ${message} (raise etcd's --max-txn-ops)`)
  }
  // gRPC's text is one line plus an empty "Resolution note:" we do not repeat.
  const reason = message.split('\n')[0]!.replace(/\s*Resolution note:.*$/, '')
  return new ConnectionProblemError(`etcd at ${peers.join(', ')}: ${reason}`, {
    hint: 'check that etcd is running and reachable, and teleport.storage (peers, TLS files, credentials)',
    cause: error,
  })
}
