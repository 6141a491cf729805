import {AccessDeniedError, UserError} from '../../lib/errors.js'
import {safeLines} from '../../lib/safe-text.js'

// Errors of connecting through the proxy, each one line for the user.

/**
 * The proxy could not route to the node (unknown or unreachable node, ambiguous host). A one-line
 * answer is an ordinary error (`ERROR: failed to connect to ...`); a longer one (the ambiguity
 * error carries a table of the matching nodes and a hint) is kept as `details`, which the error
 * printer shows as the proxy laid it out. Both are escaped: they carry names nodes chose.
 */
export class ProxyRouteError extends UserError {
  constructor(text: string) {
    const lines = text.split('\n').filter((l) => l.trim() !== '')
    super((lines[0] ?? 'the proxy could not reach the node').replace(/^error:\s*/i, ''))
    this.name = 'ProxyRouteError'
    if (lines.length > 1) this.details = safeLines(text.endsWith('\n') ? text : text + '\n')
  }
}

/** The node refused our certificate for this login (not a principal, or RBAC said no). */
export class NodeAccessDeniedError extends AccessDeniedError {
  constructor(login: string, host: string) {
    super(`access denied to ${login} connecting to ${host}`)
    this.name = 'NodeAccessDeniedError'
  }
}

type SshError = Error & {code?: string; level?: string}

/** ssh2 / socket errors of dialling the proxy, as one line naming the proxy. */
export function describeProxyError(err: SshError, address: string): Error {
  if (err instanceof UserError) return err
  if (err.code === 'ECONNREFUSED') return new UserError(`cannot reach the proxy at ${address}: connection refused`, {hint: 'is the proxy running, and is this its SSH address?'})
  if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') return new UserError(`cannot resolve the proxy address ${address}`)
  if (err.code === 'ETIMEDOUT' || err.level === 'client-timeout') return new UserError(`timed out connecting to the proxy at ${address}`)
  if (err.level === 'client-authentication') {
    return new AccessDeniedError(`the proxy at ${address} refused your certificate`, {hint: 'log in again with "tsh login"'})
  }
  return new UserError(`cannot connect to the proxy at ${address}: ${err.message}`)
}
