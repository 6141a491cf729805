import type {Duplex} from 'node:stream'
import ssh2 from 'ssh2'
import type {BaseAgent, ClientChannel} from 'ssh2'
import type {WebSocket} from 'ws'
import type {SessionTracker, WebSession, WebUserAuthApi} from '../../api/auth-api.js'
import type {TerminalParams} from '../../api/web-ui-routes.js'
import type {Clock} from '../../lib/clock.js'
import {AccessDeniedError, NotFoundError, UserError} from '../../lib/errors.js'
import type {Logger} from '../../lib/log.js'
import {JOIN_SESSION_ENV, PARTICIPANT_MODE_ENV, PARTICIPANT_MODES, trackerNodeId, type ParticipantMode} from '../../services/models/session-tracker.js'
import {parseCert} from '../../sshca/index.js'
import {agentAuthOptions, failOnCloseBeforeReady, hostCertVerifier} from '../../ssh/index.js'
import type {NodeRouter} from './node-route.js'
import {closeCodeOf, failSocket, pageMessage, sendControl, sendFrame} from './ws-frames.js'

// The terminal WebSocket (docs/WEB.md "Terminal WebSocket"): the proxy connects to the node as
// the web session's user, like `tsh ssh -t` through the proxy: the same node lookup, lock check,
// audit and signed preamble (node-route.ts), then an SSH client authenticated with the session's
// certificate and an agent that signs at auth, trusting the node by host CA. A pty and a shell,
// or, with `sid`, a join (TELEPORT_SESSION, TELEPORT_PARTICIPANT_MODE as `tsh join` sends them).
// Bytes are relayed both ways with back-pressure; resize frames become window changes.

/** Above this many unsent bytes on the socket, the node's output waits. */
export const SEND_BUFFER_HIGH = 256 * 1024
/** How long the session id of a new shell is looked for in the trackers. */
export const FIND_SESSION_MS = 10_000
const FIND_SESSION_POLL_MS = 250
const MAX_TERM = 10_000

export interface TerminalSocketOptions {
  ws: WebSocket
  session: WebSession
  api: Pick<WebUserAuthApi, 'listNodes' | 'getSessionTracker' | 'listSessionTrackers'>
  agent: BaseAgent
  params: TerminalParams
  router: NodeRouter
  clusterName: string
  hostCAs(): Promise<string[]>
  /** ip:port of the browser, for the audit and the node. */
  clientAddr: string
  /** Session ids already told to a terminal of this proxy (so two new shells are not told the same). */
  claimed: Set<string>
  clock: Clock
  log: Logger
  signal: AbortSignal
}

/** The `params` query value, checked; BadParameter-style message on failure. */
export function parseTerminalParams(raw: string | null): TerminalParams | string {
  if (!raw) return 'missing query parameter "params"'
  let value: {server_id?: unknown; login?: unknown; term?: {w?: unknown; h?: unknown}; sid?: unknown; mode?: unknown}
  try {
    value = JSON.parse(raw)
  } catch {
    return 'query parameter "params" is not JSON'
  }
  if (typeof value !== 'object' || value === null) return 'query parameter "params" must be a JSON object'
  const dimension = (n: unknown) => Number.isInteger(n) && (n as number) > 0 && (n as number) <= MAX_TERM
  if (typeof value.login !== 'string' || value.login === '' || value.login.length > 255) return 'params.login must be a login name'
  if (!value.term || !dimension(value.term.w) || !dimension(value.term.h)) return 'params.term must be {w, h} in columns and rows'
  const sid = value.sid
  if (sid !== undefined && (typeof sid !== 'string' || !/^[0-9a-f-]{36}$/.test(sid))) return 'params.sid must be a session id'
  if (value.mode !== undefined && !(PARTICIPANT_MODES as readonly unknown[]).includes(value.mode)) return `params.mode must be one of ${PARTICIPANT_MODES.join(', ')}`
  if (sid === undefined && (typeof value.server_id !== 'string' || value.server_id === '')) return 'params.server_id must name a node'
  return {
    server_id: typeof value.server_id === 'string' ? value.server_id : '',
    login: value.login,
    term: {w: value.term.w as number, h: value.term.h as number},
    ...(typeof sid === 'string' ? {sid, mode: (value.mode as ParticipantMode | undefined) ?? 'observer'} : {}),
  }
}

export async function runTerminal(options: TerminalSocketOptions): Promise<void> {
  const {ws, params} = options
  let client: ssh2.Client | undefined
  ws.once('close', () => client?.end())
  try {
    const join = params.sid ? await liveSession(options, params.sid) : undefined
    const serverId = join ? trackerNodeId(join) : await visibleNode(options, params.server_id)
    const routed = await options.router.route(
      {host: serverId},
      {user: options.session.user, login: params.login, addr: options.clientAddr, access: certificateAccess(options.session.certificate)},
      `proxy:${serverId}@${options.clusterName}`,
      // Recording proxy mode: the proxy reaches the node with the web session's agent itself.
      {signal: options.signal, registeredOnly: true, agent: options.agent},
    )
    if (!routed.ok) {
      const message = routed.message.replace(/^error: /, '')
      throw routed.kind === 'refused' ? new AccessDeniedError(message) : routed.kind === 'not-found' ? new NotFoundError(message) : new UserError(message)
    }
    if (ws.readyState !== ws.OPEN) return void routed.stream.destroy()
    const hostname = routed.node?.hostname ?? serverId
    const before = join ? undefined : await ownSessionIds(options, serverId)
    client = await connect(options, routed.stream, serverId, hostname)
    const channel = await openShell(client, params, join ? {sid: join.sessionId, mode: params.mode ?? 'observer'} : undefined)
    const announce = (sid: string) => sendControl(ws, {type: 'session', session: {sid, server_id: serverId, login: params.login, hostname}})
    if (join) announce(join.sessionId)
    else
      void findNewSession(options, serverId, before!).then(announce, (err: Error) => {
        options.log.debug(`web terminal: the session id of ${options.session.user}'s shell is not known: ${err.message}`)
        announce('')
      })
    await relay(ws, channel)
  } catch (err) {
    if (closeCodeOf(err) === 1011 && !(err instanceof UserError)) options.log.warn(`web terminal for ${options.session.user}: ${(err as Error).message}`)
    failSocket(ws, closeCodeOf(err), pageMessage(err))
  } finally {
    client?.end()
  }
}

/** The roles and traits the web session's certificate carries (what a plain sshd node is checked against at the proxy). */
function certificateAccess(certificate: string): {roles: string[]; traits: Record<string, string[]>} {
  const cert = parseCert(certificate)
  return {roles: cert.roles, traits: cert.traits}
}

/** A live session the user may see (auth's RBAC), to join. */
async function liveSession(options: TerminalSocketOptions, sid: string): Promise<SessionTracker> {
  let tracker: SessionTracker
  try {
    tracker = await options.api.getSessionTracker(sid)
  } catch (err) {
    if (err instanceof NotFoundError) throw new NotFoundError(`session ${sid} is not found`)
    throw err
  }
  if (tracker.state === 'TERMINATED') throw new NotFoundError(`session ${sid} has ended`)
  return tracker
}

/** The node, if the user may see it (auth's RBAC on the node list); by host id only. */
async function visibleNode(options: TerminalSocketOptions, serverId: string): Promise<string> {
  const nodes = await options.api.listNodes()
  if (!nodes.some((n) => n.name === serverId)) throw new NotFoundError(`node ${JSON.stringify(serverId)} is not found`)
  return serverId
}

function connect(options: TerminalSocketOptions, stream: Duplex, serverId: string, hostname: string): Promise<ssh2.Client> {
  const {login} = options.params
  return options.hostCAs().then(
    (hostCAs) =>
      new Promise<ssh2.Client>((resolve, reject) => {
        const client = new ssh2.Client()
        const verifier = hostCertVerifier({trustedHostCAs: hostCAs, hostname: serverId})
        let banner = ''
        client.on('banner', (text: string) => (banner += text))
        client.once('ready', () => {
          client.removeAllListeners('error')
          client.on('error', () => {}) // a later drop ends the channel
          resolve(client)
        })
        const fail = (err: Error & {level?: string}) => {
          stream.destroy()
          // The node's refusal (RBAC, lock) comes as a banner before the failure: its words are the page's.
          if (err.level === 'client-authentication') return reject(new AccessDeniedError(banner.trim().split('\n')[0] || `access denied to ${login} connecting to ${hostname}`))
          const explained = verifier.explain(err)
          reject(explained === err ? new UserError(`cannot connect to node ${hostname}: ${err.message}`) : explained)
        }
        client.once('error', fail)
        failOnCloseBeforeReady(client, fail)
        client.connect({sock: stream as never, readyTimeout: 20_000, ...verifier.connectOptions(), ...agentAuthOptions({username: login, agent: options.agent})})
      }),
  )
}

function openShell(client: ssh2.Client, params: TerminalParams, join?: {sid: string; mode: string}): Promise<ClientChannel> {
  const env = join ? {[JOIN_SESSION_ENV]: join.sid, [PARTICIPANT_MODE_ENV]: join.mode} : {}
  return new Promise((resolve, reject) =>
    client.shell({term: 'xterm-256color', cols: params.term.w, rows: params.term.h}, {env}, (err, channel) => (err ? reject(new UserError(`the node refused the shell: ${err.message}`)) : resolve(channel))),
  )
}

/** The user's sessions on that node before the shell: the new one is the one that appears. */
async function ownSessionIds(options: TerminalSocketOptions, serverId: string): Promise<Set<string>> {
  const trackers = await options.api.listSessionTrackers().catch(() => [])
  return new Set(trackers.filter((t) => trackerNodeId(t) === serverId).map((t) => t.sessionId))
}

/**
 * The id of the session the shell started: the node writes its tracker when it starts. (The SSH
 * protocol does not carry it to the client; Teleport's node sends it in a channel request, ours
 * does not yet.) Fails when the user's roles do not let them list their own sessions.
 */
async function findNewSession(options: TerminalSocketOptions, serverId: string, before: Set<string>): Promise<string> {
  const deadline = options.clock.now().getTime() + FIND_SESSION_MS
  for (;;) {
    if (options.ws.readyState !== options.ws.OPEN) throw new Error('the terminal closed')
    const trackers = await options.api.listSessionTrackers()
    const found = trackers
      .filter((t) => trackerNodeId(t) === serverId && t.user === options.session.user && t.login === options.params.login && !before.has(t.sessionId) && !options.claimed.has(t.sessionId))
      .sort((a, b) => a.created.localeCompare(b.created))[0]
    if (found) {
      options.claimed.add(found.sessionId)
      options.ws.once('close', () => options.claimed.delete(found.sessionId))
      return found.sessionId
    }
    if (options.clock.now().getTime() >= deadline) throw new Error('the session did not show up in the trackers')
    await options.clock.sleep(FIND_SESSION_POLL_MS)
  }
}

/** Until the shell ends (then `close` with its exit status) or the page leaves. */
function relay(ws: WebSocket, channel: ClientChannel): Promise<void> {
  return new Promise((resolve) => {
    let exit = 'exit status 255'
    let done = false
    const finish = () => {
      if (done) return
      done = true
      resolve()
    }
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer)
        // The node's window is full: stop reading the page until it drains.
        if (!channel.write(bytes)) {
          ws.pause()
          channel.once('drain', () => ws.resume())
        }
        return
      }
      const message = parseControl(data.toString())
      if (message?.type === 'resize') channel.setWindow(message.rows, message.cols, 0, 0)
    })
    const output = (chunk: Buffer) => {
      const sent = sendFrame(ws, chunk)
      if (ws.bufferedAmount > SEND_BUFFER_HIGH) {
        channel.pause()
        void sent.then(() => channel.resume())
      }
    }
    channel.on('data', output)
    channel.stderr.on('data', output)
    ws.resume() // paused since the auth frame: what the page sent meanwhile comes now
    channel.on('exit', (code: number | null, signal?: string) => {
      exit = code !== null && code !== undefined ? `exit status ${code}` : `killed by signal ${signal ?? 'unknown'}`
    })
    channel.on('close', () => {
      sendControl(ws, {type: 'close', reason: exit})
      if (ws.readyState === ws.OPEN) ws.close(1000, exit)
      finish()
    })
    ws.on('close', () => {
      channel.close()
      finish()
    })
  })
}

function parseControl(text: string): {type: 'resize'; cols: number; rows: number} | undefined {
  try {
    const message = JSON.parse(text) as {type?: unknown; size?: unknown}
    const match = message.type === 'resize' && typeof message.size === 'string' ? /^(\d{1,5}):(\d{1,5})$/.exec(message.size) : null
    if (match && Number(match[1]) > 0 && Number(match[2]) > 0) return {type: 'resize', cols: Number(match[1]), rows: Number(match[2])}
  } catch {
    // not a control message: ignored
  }
  return undefined
}
