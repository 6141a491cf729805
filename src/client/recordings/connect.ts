import type {UserAuthApi} from '../../api/auth-api.js'
import {authApiViaProxy} from '../connect/auth-via-proxy.js'
import {identityForCommand} from '../login-on-demand.js'

// The auth API as the logged-in user, through the proxy: what the recordings commands read from.

export interface ConnectFlags {
  proxy?: string
  user?: string
  cluster?: string
  insecure?: boolean
  debug?: boolean
}

export async function connectRecordings(flags: ConnectFlags): Promise<UserAuthApi> {
  const identity = await identityForCommand(flags)
  return authApiViaProxy(identity, flags.cluster ? {cluster: flags.cluster} : {})
}
