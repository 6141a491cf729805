import type {ProxyAuthApi, WebSession, WebUserAuthApi} from '../../api/auth-api.js'
import {WebSessionAgent} from '../../api/web-session-agent.js'
import {openWebUserApi} from '../../api/web-user-api.js'
import type {AuthServers} from '../../api/auth-servers.js'
import type {CaKeyCache} from './client-auth.js'
import type {WebSessionConnector} from './web-sessions-proxy.js'

// The proxy as a web session's user: the auth API over its own SSH connection to the auth
// server the proxy uses (the proxy's list: when that one goes away, the next in turn) (certificate auth both ways; the user's key is the session's, which
// signs at auth), and the same agent for connections to nodes.

export function webSessionConnector(options: {authApi: Pick<ProxyAuthApi, 'signWithWebSession'>; authServers: AuthServers; caKeys: CaKeyCache}): WebSessionConnector {
  const agent = (session: WebSession) => new WebSessionAgent({sessionId: session.id, certificate: session.certificate, auth: options.authApi})
  return {
    agent,
    async openUserApi(session): Promise<WebUserAuthApi> {
      const trust = {hostCAs: (await options.caKeys.get()).value.hostCAs}
      return openWebUserApi({servers: options.authServers, trust, agent: agent(session)})
    },
  }
}
