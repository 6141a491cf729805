import type {UserAuthApi} from '../../api/auth-api.js'
import {authApiViaProxy} from '../connect/auth-via-proxy.js'
import {loadCurrentIdentity} from '../profile.js'

// The auth API as the logged-in user, through the proxy: what the recordings commands read from.

export interface ConnectFlags {
  proxy?: string
  user?: string
  cluster?: string
}

export async function connectRecordings(flags: ConnectFlags): Promise<UserAuthApi> {
  const identity = loadCurrentIdentity({...(flags.proxy ? {proxy: flags.proxy} : {}), ...(flags.user ? {user: flags.user} : {})})
  return authApiViaProxy(identity, flags.cluster ? {cluster: flags.cluster} : {})
}
