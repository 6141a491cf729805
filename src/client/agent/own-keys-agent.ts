import type {BaseAgent} from 'ssh2'
import type {ConnectIdentity} from '../connect/identity.js'
import {identityKeyring} from './identity-agent.js'
import {KeyringAgent} from './keyring-agent.js'

/**
 * The agent tsh forwards as its own (tsh ssh -A; tsh scp in recording proxy mode): tsh's key and
 * certificate and nothing else, or, for a login whose key lives only in an agent, that agent.
 */
export function ownKeysAgent(identity: Pick<ConnectIdentity, 'privateKey' | 'certificate' | 'profile'>, env: NodeJS.ProcessEnv): string | BaseAgent | undefined {
  return identity.privateKey ? new KeyringAgent(identityKeyring(identity)) : env.SSH_AUTH_SOCK || undefined
}
