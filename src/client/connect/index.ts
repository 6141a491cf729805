// Reaching the cluster as a user: the proxy (first hop), a node through it (second hop, end to
// end encrypted), the auth API through it, and OpenSSH's ProxyCommand.

export {connectToProxy, type ProxyConnectOptions} from './proxy.js'
export {openNodeStream, openSubsystem, nodeSubsystem, authSubsystem, NodeStream, type NodeChannel} from './node-stream.js'
export {connectToNode, type NodeConnectOptions, type NodeConnection} from './node.js'
export {authApiViaProxy, type AuthViaProxyOptions} from './auth-via-proxy.js'
export {runProxyCommand, parseProxyTarget, stripClusterSuffixes, type ProxyTarget, type ProxyCommandIO} from './proxy-command.js'
export {ProxyRouteError, NodeAccessDeniedError, describeProxyError} from './errors.js'
export {proxySshAddress, proxyHost, formatAddress, type ConnectIdentity, type ConnectProfile, type HostPort} from './identity.js'
export {userAuthOptions} from './auth-options.js'
