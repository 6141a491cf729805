import type {Duplex} from 'node:stream'
import type {BaseAgent} from 'ssh2'
import type {NodeInfo, ProxyAuthApi} from '../../api/auth-api.js'
import {EventCode, EventName, type EmitNamed} from '../../events/index.js'
import type {Clock} from '../../lib/clock.js'
import type {Logger} from '../../lib/log.js'
import {joinHostPort} from '../../lib/net/ip.js'
import type {AccessCache} from '../common/access-cache.js'
import {encodePreamble} from '../common/proxy-preamble.js'
import {RoleCache} from '../common/role-cache.js'
import {canSeeNode, checkAccessToNode} from '../../services/rbac.js'
import {formatLabels, nodeLabels, OPENSSH_SUB_KIND} from '../../services/models/node.js'
import {TcpNodeDialer, type DialTarget, type NodeDialer} from './node-dialer.js'
import {nodeListCache, type NodeListCache} from './node-list-cache.js'
import {ambiguousHostMessage, dialAddress, findNodes, systemResolver, type LookupTarget, type Resolver} from './node-lookup.js'

// From a client's request for a host to a byte stream to that node's SSH server: the lookup
// (node-lookup.ts), locks on the node, the dial (node-dialer.ts), the audit event and the signed
// preamble telling our node the real client address. The SSH proxy's `proxy:` subsystem and the
// web terminal both route through here, so they find, refuse and audit alike.

/** Default port of our nodes, dialled when a request names none. */
export const DEFAULT_NODE_PORT = 3022

export interface NodeRouterOptions {
  /** The proxy's host identity: signs preambles. */
  identity: {privateKey: string; certificate: string}
  authApi: Pick<ProxyAuthApi, 'listNodes' | 'getRole'>
  access: AccessCache
  audit: EmitNamed
  log: Logger
  resolve?: Resolver
  dialer?: NodeDialer
  dialTimeoutMs?: number
  clock?: Clock
}

/** Who is asking, for the audit event and the preamble. */
export interface RouteClient {
  /** The Teleport user (or `<role>:<host id>` for a host). */
  user: string
  login: string
  /** ip:port as the proxy saw it. */
  addr: string
  /** The roles and traits of the user's certificate: what the proxy checks for plain OpenSSH nodes, which cannot. */
  access?: {roles: string[]; traits: Record<string, string[]>}
  /** ProxyJump: `login` is only the name given to the proxy; the one used at the node is not known here. */
  loginUnknown?: boolean
}

/**
 * Takes over the dialled stream to a node (recording proxy mode: the proxy terminates the
 * session) and returns what the client is relayed to instead; undefined leaves the route as it is.
 */
export type StreamInterceptor = (node: NodeInfo, stream: Duplex, clientAddr: string, options: {agent?: BaseAgent}) => Promise<Duplex | undefined>

export type RouteOutcome =
  | {ok: true; stream: Duplex; node?: NodeInfo}
  /** `not-found`: no registered node (only when `registeredOnly`); the message is the client's one line (or table). */
  | {ok: false; kind: 'not-found' | 'refused' | 'ambiguous' | 'unreachable' | 'lookup'; message: string}

export class NodeRouter {
  private readonly resolve: Resolver
  private readonly dialer: NodeDialer
  private readonly nodes: NodeListCache
  private readonly roles: RoleCache
  /** Set when the proxy records sessions itself (recording-proxy/). */
  interceptor: {intercept: StreamInterceptor; readonly active: boolean} | undefined

  constructor(private readonly options: NodeRouterOptions) {
    this.resolve = options.resolve ?? systemResolver
    this.dialer = options.dialer ?? new TcpNodeDialer({timeoutMs: options.dialTimeoutMs})
    this.nodes = nodeListCache(options.authApi as ProxyAuthApi, {log: options.log, clock: options.clock})
    this.roles = new RoleCache(options.authApi, {log: options.log, ...(options.clock ? {clock: options.clock} : {})})
  }

  /**
   * Finds the node for `lookup`, refuses a locked one, dials it and audits the outcome as the
   * subsystem `name`. With `registeredOnly`, a host no node announced is not dialled. `agent`: the
   * user's agent the proxy itself holds (a web session's), which a recording proxy may use to
   * reach the node in place of a forwarded one.
   */
  async route(lookup: LookupTarget, client: RouteClient, name: string, options: {signal?: AbortSignal; registeredOnly?: boolean; agent?: BaseAgent} = {}): Promise<RouteOutcome> {
    let matches: NodeInfo[]
    try {
      const listed = await this.nodes.get()
      matches = await findNodes(listed.value, lookup, this.resolve)
      // A node that registered a moment ago may not be in a cached list yet.
      if (matches.length === 0 && listed.cached) matches = await findNodes((await this.nodes.get({refresh: true})).value, lookup, this.resolve)
    } catch (err) {
      return {ok: false, kind: 'lookup', message: `error: cannot look up nodes: ${(err as Error).message}`}
    }
    if (matches.length > 1) {
      this.audit(client, name, {error: 'ambiguous host', target: lookup.host})
      return {ok: false, kind: 'ambiguous', message: ambiguousHostMessage(matches)}
    }
    const node = matches[0]
    if (!node && options.registeredOnly) return {ok: false, kind: 'not-found', message: `node ${JSON.stringify(lookup.host)} is not found`}
    // A server no node announced would be reached unrecorded: in recording proxy mode only nodes are.
    if (!node && this.interceptor?.active) {
      this.audit(client, name, {error: 'not a registered node (recording proxy mode)', target: lookup.host})
      return {ok: false, kind: 'not-found', message: `error: node ${JSON.stringify(lookup.host)} is not found; in proxy recording mode only registered nodes can be reached`}
    }
    const locked = node && this.options.access.refusal({node: node.name})
    if (locked) {
      this.audit(client, name, {error: locked, node})
      return {ok: false, kind: 'refused', message: `error: ${locked}`}
    }
    const denied = node?.subKind === OPENSSH_SUB_KIND ? await this.openSSHRefusal(node, client) : undefined
    if (denied) {
      // The reason (which may name labels of a node the user cannot see) goes to the audit log;
      // the client hears what our nodes say.
      this.audit(client, name, {error: denied, node})
      return {ok: false, kind: 'refused', message: `error: access denied to ${client.login} connecting to ${node!.hostname}`}
    }
    let target: DialTarget
    if (node) {
      // A tunnelled node is reached over its tunnel by name (the dialer knows how); others by address.
      const dialed = node.tunnel ? {host: node.name, port: 0} : dialAddress(node)
      if (!dialed) {
        const why = `has no usable address (${JSON.stringify(node.addr)})`
        this.audit(client, name, {error: `node ${why}`, node})
        return {ok: false, kind: 'unreachable', message: `error: node "${node.hostname}" ${why}`}
      }
      target = {...dialed, node}
    } else {
      target = {host: lookup.host, port: lookup.port ?? DEFAULT_NODE_PORT}
    }

    const dst = node?.tunnel ? `${node.hostname} (reverse tunnel)` : joinHostPort(target.host, target.port)
    let stream: Duplex
    try {
      stream = await this.dialer.dial(target, options.signal ? {signal: options.signal} : {})
    } catch (err) {
      const message = `failed to connect to ${dst}: ${(err as Error).message}`
      this.audit(client, name, {error: message, dst, ...(node ? {node} : {})})
      return {ok: false, kind: 'unreachable', message}
    }
    this.audit(client, name, {dst, ...(node ? {node} : {})})
    // Our nodes learn the real client address from the signed preamble; other servers get plain SSH.
    if (node && node.subKind !== OPENSSH_SUB_KIND) stream.write(encodePreamble({src: client.addr, dst}, this.options.identity))
    if (node && this.interceptor) {
      try {
        const taken = await this.interceptor.intercept(node, stream, client.addr, options.agent ? {agent: options.agent} : {})
        if (taken) return {ok: true, stream: taken, node}
      } catch (err) {
        stream.destroy()
        const message = `failed connecting to node ${node.hostname}: ${(err as Error).message}`
        this.options.log.warn(message)
        return {ok: false, kind: 'unreachable', message: `error: ${message}`}
      }
    }
    return {ok: true, stream, ...(node ? {node} : {})}
  }

  /**
   * A plain sshd checks only that the certificate is the cluster's and names the login: the
   * node's labels are the proxy's to enforce (with the roles as auth defines them now, as our
   * nodes do), and the login the client says it will use (the subsystem path, the web terminal)
   * is checked too. That login is the client's word: sshd accepts any login in the certificate,
   * so per-label login rules bind a registered sshd only once the proxy terminates the session
   * (recording proxy mode). Undefined: allowed.
   */
  private async openSSHRefusal(node: NodeInfo, client: RouteClient): Promise<string | undefined> {
    if (!client.access || client.access.roles.length === 0) return 'the certificate names no roles'
    let roles
    try {
      roles = await this.roles.getRoles(client.access.roles)
    } catch (err) {
      return `cannot read the user's roles from the auth server: ${(err as Error).message}`
    }
    if (roles.length === 0) return `none of the user's roles (${client.access.roles.join(', ')}) exist`
    if (client.loginUnknown) return canSeeNode({roles, traits: client.access.traits, nodeLabels: nodeLabels(node)}) ? undefined : `no role's node_labels match labels ${formatLabels(nodeLabels(node))}`
    const decision = checkAccessToNode({roles, traits: client.access.traits, login: client.login, nodeLabels: nodeLabels(node)})
    return decision.allowed ? undefined : decision.reason
  }

  /** A subsystem event (T3001I, or T3001E with the error). */
  audit(client: RouteClient, name: string, result: {dst?: string; error?: string; node?: NodeInfo; target?: string}): void {
    this.options.audit(EventName.Subsystem, result.error ? EventCode.SubsystemFailure : EventCode.Subsystem, {
      user: client.user,
      login: client.login,
      'addr.remote': client.addr,
      name,
      ...(result.dst ? {'addr.local': result.dst} : {}),
      ...(result.node ? {node_id: result.node.name, server_hostname: result.node.hostname} : {}),
      ...(result.target ? {target: result.target} : {}),
      ...(result.error ? {exitError: result.error} : {}),
    })
  }
}
