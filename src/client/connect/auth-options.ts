import {UserError} from '../../lib/errors.js'
import {agentAuthOptions, certAuthOptions, type AgentAuthOptions, type CertAuthOptions} from '../../ssh/index.js'
import type {ConnectIdentity} from './identity.js'

/**
 * ssh2 options that log in as `username` with the user's certificate: from the key on disk, or,
 * for a login made with --add-keys-to-agent=only, from the SSH agent that holds it.
 */
export function userAuthOptions(identity: ConnectIdentity, username: string, env: NodeJS.ProcessEnv = process.env): CertAuthOptions | AgentAuthOptions {
  if (!identity.agentOnly) return certAuthOptions({username, privateKey: identity.privateKey, certificate: identity.certificate})
  const socket = env.SSH_AUTH_SOCK
  if (!socket) {
    throw new UserError('your key is held only by the SSH agent, and SSH_AUTH_SOCK is not set', {hint: 'start the agent you logged in with, or log in again with "tsh login"'})
  }
  return agentAuthOptions({username, agent: socket})
}
