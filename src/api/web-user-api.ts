import type {Duplex} from 'node:stream'
import {AuthApiClient} from './auth-api-client.js'
import type {WebUserAuthApi} from './auth-api.js'
import {ApiClient, type ApiClientTarget} from './client.js'
import type {ServerTrust} from './server-trust.js'
import type {WebSessionAgent} from './web-session-agent.js'

// The auth API as a browser's user, for the proxy: an SSH connection authenticated with the web
// session's certificate through its agent, so auth applies that user's RBAC, locks and audit.

export type WebUserApiOptions = ApiClientTarget & {
  trust: ServerTrust
  /** A stream to run the connection over instead of dialling host:port. */
  dial?: () => Promise<Duplex>
  agent: WebSessionAgent
}

export function openWebUserApi(options: WebUserApiOptions): WebUserAuthApi {
  const {agent, ...rest} = options
  return new AuthApiClient(new ApiClient({...rest, credentials: {agent}}))
}
