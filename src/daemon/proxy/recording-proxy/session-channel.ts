import {randomUUID} from 'node:crypto'
import type {ClientChannel, PseudoTtyInfo, ServerChannel, Session as SshSession} from 'ssh2'
import type ssh2 from 'ssh2'
import {EventCode, EventName} from '../../../events/index.js'
import {JOIN_SESSION_ENV, PARTICIPANT_MODE_ENV} from '../../../services/models/session-tracker.js'
import {channelOpen, sendExitStatus} from '../../../ssh/server-internals.js'
import {certAllows} from '../../node/context.js'
import {RecordingRequiredError, type SessionRecording} from '../../node/recording/session-recorder.js'
import {sessionAuditTap} from '../../node/session/audit-tap.js'
import {joinSession} from '../../node/session/join-session.js'
import {sessionGate} from '../../node/session/moderation.js'
import type {Party} from '../../node/session/party.js'
import {Session} from '../../node/session/session.js'
import {flush, sshChannelOutput} from '../../node/session/ssh-channel-output.js'
import {answerTerminalRequests} from '../../node/session/channel-requests.js'
import type {TerminatedConnection} from './context.js'
import {remoteProgram, remoteProgramOnceOpen} from './remote-program.js'

// One session channel of a connection the recording proxy terminates: the requests before the
// program (pty-req, env, auth-agent-req) are kept; at shell, exec or subsystem the same requests
// are made on a channel of the proxy's connection to the node, and the session runs in the
// node's session core (Session: the user's channel is its peer, the node's channel its program)
// with the node's taps: the audit events and the recording, exactly as on a node in `node` mode.
// window-change and signal while it runs go to the node; its exit status or signal comes back.
// The session is held here (ctx.sessions, its tracker written by the proxy under this id, the
// recording's): a shell request carrying TELEPORT_SESSION (`tsh join`, the web terminal's join)
// joins it as the node's join-session.ts joins a node's session, with no connection to the node.

interface Request {
  kind: 'shell' | 'exec' | 'subsystem'
  /** The command of an exec, the name of a subsystem. */
  command?: string
}

export class ProxySessionChannel {
  readonly sid = randomUUID()
  private readonly env: Record<string, string> = {}
  private readonly requestedPty: () => PseudoTtyInfo | undefined
  private agent = false
  private session: Session | undefined
  private channel: ServerChannel | undefined
  private party: Party | undefined
  /** This channel joined a session held here. */
  private joined = false
  private ended = false

  /** The pty the client asked for, at its latest size. */
  private get pty(): PseudoTtyInfo | undefined {
    return this.requestedPty()
  }

  constructor(
    private readonly conn: TerminatedConnection,
    ssh: SshSession,
  ) {
    this.requestedPty = answerTerminalRequests(ssh, conn.cert, {started: () => this.session !== undefined, session: () => this.session})
    ssh.on('env', (accept, _reject, info) => {
      // The node decides which it takes, as it would from the user directly.
      this.env[info.key] = info.val
      accept?.()
    })
    ssh.on('auth-agent', (accept, reject) => {
      // The role's forward_agent, as the certificate says it: without it no agent is used, here or at the node.
      if (!certAllows(conn.cert, 'permit-agent-forwarding')) {
        conn.agent.noneComing() // forwards waiting for it are refused now
        return reject?.()
      }
      this.agent = true
      conn.agent.agentForwarded()
      accept?.()
    })
    // Accepted at once (a client may send EOF right after), started once the node's channel is open.
    ssh.on('shell', (accept) => void this.start(accept(), {kind: 'shell'}))
    ssh.on('exec', (accept, _reject, info) => void this.start(accept(), {kind: 'exec', command: info.command}))
    ssh.on('subsystem', (accept, _reject, info) => void this.start(accept(), {kind: 'subsystem', command: info.name}))
    ssh.on('close', () => this.hangUp())
  }

  /** The user's channel closed or the connection dropped: the user leaves the session. */
  hangUp(): void {
    if (this.party) this.party.leave()
    this.ended = true
  }

  private async start(channel: ServerChannel | undefined, request: Request): Promise<void> {
    if (!channel || this.ended) return
    this.channel = channel
    const {conn} = this
    const {ctx} = conn
    const joining = this.env[JOIN_SESSION_ENV]
    if (request.kind === 'shell' && joining !== undefined) return this.join(channel, joining)
    const fields = () => ({...conn.eventFields(), sid: this.sid})
    let upstream: ssh2.Client
    try {
      upstream = await conn.upstream()
    } catch (err) {
      ctx.log.info(`recording proxy: session of ${conn.user} on ${conn.target.node.hostname} refused: ${(err as Error).message}`)
      return this.refuse(channel, (err as Error).message)
    }
    const subsystem = request.kind === 'subsystem'
    // The owner's require_session_join: held here until the moderators joined (the node's channel opens only then).
    const gate = await sessionGate({user: conn.user, roles: conn.cert.roles}, ctx.roles, !subsystem && this.pty !== undefined)
    if (typeof gate === 'string') {
      ctx.emit(EventName.SessionRejected, EventCode.SessionRejected, {...fields(), reason: gate})
      return this.refuse(channel, gate)
    }
    let recording: SessionRecording | undefined
    if (!subsystem) {
      try {
        recording = await ctx.recorder.open(this.sid, conn.eventFields(), (message) => void this.endWith(message))
      } catch (err) {
        const message = err instanceof RecordingRequiredError ? err.message : `cannot start the session's recording: ${(err as Error).message}`
        return this.refuse(channel, message)
      }
    }
    let remote: ClientChannel | undefined
    if (!gate) {
      try {
        remote = await this.openRemote(upstream, request)
      } catch (err) {
        await recording?.abandon()
        if (subsystem) ctx.emit(EventName.Subsystem, EventCode.SubsystemFailure, {...fields(), name: request.command, error: (err as Error).message})
        return this.refuse(channel, `failed to start the session on ${conn.target.node.hostname}: ${(err as Error).message}`)
      }
    }
    if (this.ended || !channelOpen(channel)) {
      remote?.close()
      return void recording?.abandon()
    }
    const session = new Session({sid: this.sid, clock: ctx.clock, owner: {user: conn.user, roles: conn.cert.roles, login: conn.login}, ...(gate ? {gate} : {})})
    this.session = session
    if (subsystem) ctx.emit(EventName.Subsystem, EventCode.Subsystem, {...fields(), name: request.command})
    else session.addTap(sessionAuditTap({node: ctx, sid: this.sid, eventFields: () => conn.eventFields()}))
    if (recording) session.addTap(recording.tap)
    // One tracker per session, under the id it is recorded by: the proxy's (our nodes write none in this mode).
    if (!subsystem) session.addTap(ctx.trackSession(conn.target.node, {sid: this.sid, user: conn.user, login: conn.login}))
    this.party = session.join({user: conn.user, mode: 'peer', roles: conn.cert.roles, output: sshChannelOutput(channel), input: channel})
    channel.once('close', () => this.hangUp())
    if (!subsystem) ctx.sessions.add(session)
    const terminal = !subsystem && this.pty ? {cols: this.pty.cols, rows: this.pty.rows} : undefined
    const command = request.kind === 'exec' ? {command: request.command!} : {}
    const opened = remote
    const program = opened
      ? () => remoteProgram(opened, terminal !== undefined)
      : () => remoteProgramOnceOpen(this.openRemote(upstream, request), terminal !== undefined)
    session.start({...command, ...(terminal ? {terminal} : {})}, program)
  }

  /** The same session on the node: its pty, its environment, the agent when the user forwarded one. */
  private openRemote(upstream: ssh2.Client, request: Request): Promise<ClientChannel> {
    const pty = this.pty ? {rows: this.pty.rows, cols: this.pty.cols, width: this.pty.width, height: this.pty.height, term: this.pty.term, modes: this.pty.modes} : undefined
    const options = {env: this.env, ...(this.agent ? {agentForward: true} : {})}
    return new Promise((resolve, reject) => {
      const done = (err: Error | undefined, channel: ClientChannel) => (err ? reject(err) : resolve(channel))
      if (request.kind === 'subsystem') upstream.subsys(request.command!, done)
      else if (request.kind === 'exec') upstream.exec(request.command!, {...options, ...(pty ? {pty} : {})}, done)
      else upstream.shell(pty ?? false, options, done)
    })
  }

  /** Joins the session `sid` held here as one more party, or refuses (stderr, exit status 255). */
  private async join(channel: ServerChannel, sid: string): Promise<void> {
    const {conn} = this
    const joiner = {user: conn.user, cert: conn.cert, eventFields: () => conn.eventFields(), node: conn.ctx}
    const outcome = await joinSession(joiner, conn.ctx.sessions, {sid, mode: this.env[PARTICIPANT_MODE_ENV], output: sshChannelOutput(channel), input: channel})
    if ('refused' in outcome) {
      conn.ctx.log.info(`recording proxy: ${conn.user} may not join session ${sid}: ${outcome.refused}`)
      return this.refuse(channel, outcome.refused)
    }
    this.joined = true
    this.party = outcome.joined
    if (this.ended || !channelOpen(channel)) return this.leaveJoined()
    channel.once('close', () => this.hangUp())
  }

  /** A joined party leaves and its channel is closed (the session goes on). */
  private leaveJoined(): void {
    this.party?.leave()
    const {channel} = this
    if (channel && channelOpen(channel)) {
      channel.eof()
      sendExitStatus(channel, 255)
      channel.close()
    }
    this.ended = true
  }

  /** Ends the session with a message on its stderr (a lock came into force, proxy-sync lost auth); a joiner only leaves. */
  async endWith(message: string): Promise<void> {
    const {channel} = this
    if (channel && channelOpen(channel)) {
      channel.stderr.write(`${message}\r\n`)
      await flush(channel.stderr, channel)
    }
    if (this.joined) this.leaveJoined()
    else this.session?.terminate()
  }

  /** The session may not run: the reason on stderr, exit status 255, as our nodes refuse one. */
  private async refuse(channel: ServerChannel, message: string): Promise<void> {
    if (channelOpen(channel)) {
      channel.stderr.write(`${message}${this.pty ? '\r\n' : '\n'}`)
      await flush(channel.stderr, channel)
      channel.exit(255)
      channel.end()
    }
    this.ended = true
  }
}
