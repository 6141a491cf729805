import ssh2 from 'ssh2'
import type {IdentityCallback, ParsedKey, SignCallback, SigningRequestOptions} from 'ssh2'
import {BadParameterError} from '../lib/errors.js'
import type {ProxyAuthApi} from './auth-api.js'

// The ssh-agent through which the proxy acts as a browser's user: it holds the web session's
// certificate, and its one operation, sign, is done by auth with the session's private key
// (signWithWebSession), which never leaves auth. Given to ssh2 as `agent` (authHandler 'agent'),
// it opens the auth API as the user (ApiClient) and nodes' SSH servers alike.

/** The agent protocol's SHA-2 flags for RSA keys (ssh2 asks with {hash}); Ed25519 ignores them. */
const SIGN_FLAGS: Record<string, number> = {sha256: 1 << 1, sha512: 1 << 2}

export interface WebSessionAgentOptions {
  /** The web session's id (the cookie's value): a bearer credential, kept in memory only. */
  sessionId: string
  /** The session's OpenSSH user certificate. */
  certificate: string
  auth: Pick<ProxyAuthApi, 'signWithWebSession'>
}

export class WebSessionAgent extends ssh2.BaseAgent<ParsedKey> {
  private readonly key: ParsedKey

  constructor(private readonly options: WebSessionAgentOptions) {
    super()
    const key = ssh2.utils.parseKey(options.certificate)
    if (key instanceof Error) throw new BadParameterError(`cannot read the web session's certificate: ${key.message}`)
    this.key = key
  }

  override getIdentities(cb: IdentityCallback<ParsedKey>): void {
    cb(null, [this.key])
  }

  override sign(_pubKey: ParsedKey, data: Buffer, options: SigningRequestOptions | SignCallback, cb?: SignCallback): void {
    const done = (typeof options === 'function' ? options : cb)!
    const hash = typeof options === 'object' && options !== null ? options.hash : undefined
    const flags = (hash && SIGN_FLAGS[hash]) || 0
    this.options.auth.signWithWebSession({id: this.options.sessionId, data: data.toString('base64'), ...(flags ? {flags} : {})}).then(
      ({signature}) => done(null, Buffer.from(signature, 'base64')),
      (err: Error) => done(err),
    )
  }
}
