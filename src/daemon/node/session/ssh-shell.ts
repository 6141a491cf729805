import {randomUUID} from 'node:crypto'
import type {PseudoTtyInfo, ServerChannel, Session as SshSession} from 'ssh2'
import {EventCode, EventName, type EventFields} from '../../../events/index.js'
import {channelOpen, sendExitStatus} from '../../../ssh/server-internals.js'
import {forwardAgent, type ForwardedAgent} from '../agent-forwarding.js'
import {certAllows, type ConnectionContext} from '../context.js'
import {isAcceptedEnv, JOIN_SESSION_ENV, PARTICIPANT_MODE_ENV, sessionEnv, type TeleportSessionVars} from '../session-env.js'
import {spawnOnPty, spawnPiped} from '../spawn-as-login.js'
import {RecordingRequiredError, type SessionRecording} from '../recording/session-recorder.js'
import {sessionAuditTap} from './audit-tap.js'
import {answerTerminalRequests} from './channel-requests.js'
import {joinSession} from './join-session.js'
import {sessionGate} from './moderation.js'
import {pipedProgram, ptyProgram, type Program} from './program.js'
import type {Party} from './party.js'
import type {SessionRegistry} from './registry.js'
import {Session} from './session.js'
import {flush, sshChannelOutput} from './ssh-channel-output.js'

// The SSH shell of a session: one SSH session channel. The requests before the program (pty-req,
// env, auth-agent-req), then one of shell / exec / subsystem, which starts a Session with this
// channel as its first peer; window-change and signal while it runs become calls on the Session.
// The program runs as the OS login (spawn-as-login.ts). A shell request carrying TELEPORT_SESSION
// joins that session instead (join-session.ts): the channel becomes one more party, and its
// window-change and signal requests are ignored (the owner's terminal drives the session).

export const SFTP_SERVER = '/usr/lib/openssh/sftp-server'

interface Request {
  kind: 'shell' | 'exec' | 'sftp'
  /** The program to run through the login shell; absent for a login shell (and sftp). */
  command?: string
  /** SSH_ORIGINAL_COMMAND, when a certificate's force-command replaced the request. */
  originalCommand?: string
}

export class SessionChannel {
  readonly sid = randomUUID()
  private readonly env: Record<string, string> = {}
  private readonly requestedPty: () => PseudoTtyInfo | undefined
  private agent: ForwardedAgent | undefined
  private channel: ServerChannel | undefined
  private session: Session | undefined
  private party: Party | undefined
  /** This channel joined someone else's session. */
  private joined = false
  /** Requests answered asynchronously (agent forwarding) that the program must wait for. */
  private preparing: Promise<unknown> = Promise.resolve()
  private ended = false

  /** The pty the client asked for, at its latest size. */
  private get pty(): PseudoTtyInfo | undefined {
    return this.requestedPty()
  }

  constructor(
    private readonly conn: ConnectionContext,
    ssh: SshSession,
    private readonly registry: SessionRegistry,
  ) {
    this.requestedPty = answerTerminalRequests(ssh, conn.cert, {started: () => this.channel !== undefined, session: () => this.session})
    ssh.on('env', (accept, reject, info) => {
      if (this.channel || !isAcceptedEnv(info.key)) return reject?.()
      this.env[info.key] = info.val
      accept?.()
    })
    ssh.on('auth-agent', (accept, reject) => {
      if (!certAllows(conn.cert, 'permit-agent-forwarding') || this.agent) return reject?.()
      this.preparing = forwardAgent(conn.client, conn.osLogin).then(
        (agent) => {
          if (this.ended) return agent.close()
          this.agent = agent
          accept?.()
        },
        (err: Error) => {
          conn.node.log.warn(`agent forwarding for ${conn.user} failed: ${err.message}`)
          reject?.()
        },
      )
    })
    // A certificate's force-command replaces whatever the client asked to run.
    const forced = conn.cert.criticalOptions['force-command']
    // Accepted at once (the client may send EOF right after the request, which would make a later
    // accept impossible); the program starts once pending requests (agent forwarding) are done.
    ssh.on('shell', (accept) => {
      const channel = accept()
      void this.preparing.then(() => this.start(channel, forced !== undefined ? {kind: 'exec', command: forced, originalCommand: ''} : {kind: 'shell'}))
    })
    ssh.on('exec', (accept, _reject, info) => {
      const channel = accept()
      void this.preparing.then(() => this.start(channel, forced !== undefined ? {kind: 'exec', command: forced, originalCommand: info.command} : {kind: 'exec', command: info.command}))
    })
    ssh.on('subsystem', (accept, reject, info) => {
      if (info.name !== 'sftp') {
        conn.node.emit(EventName.Subsystem, EventCode.SubsystemFailure, {...this.fields(), name: info.name, error: `unknown subsystem "${info.name}"`})
        return reject?.()
      }
      const channel = accept()
      void this.preparing.then(() => this.start(channel, forced !== undefined ? {kind: 'exec', command: forced, originalCommand: ''} : {kind: 'sftp'}))
    })
    ssh.on('close', () => this.hangUp())
  }

  /**
   * Ends the program (the node is stopping); the channel, still attached, is told how it ended.
   * A joined party only leaves: the session is not its to end.
   */
  terminate(): void {
    if (this.joined) return this.leaveJoined()
    if (this.session) this.session.terminate()
    else this.finish()
  }

  /** Ends the session with a message on its stderr (a lock came into force), as Teleport does. */
  async endWith(message: string): Promise<void> {
    const channel = this.channel
    if (channel && channelOpen(channel)) {
      channel.stderr.write(`${message}\r\n`)
      await flush(channel.stderr, channel)
    }
    this.terminate()
  }

  /** The client closed the channel or the connection dropped: this party leaves its session. */
  hangUp(): void {
    if (this.party) this.party.leave()
    else this.finish()
  }

  private fields(): EventFields {
    return {...this.conn.eventFields(), sid: this.sid}
  }

  private async start(channel: ServerChannel | undefined, request: Request): Promise<void> {
    if (!channel || this.ended) return
    this.channel = channel
    const {conn} = this
    const joining = this.env[JOIN_SESSION_ENV]
    if (request.kind === 'shell' && joining !== undefined) return this.join(channel, joining)
    // Recording proxy mode: the proxy that ran this session through us audits it, records it and
    // keeps its tracker, under its own id (one copy); it holds a moderated one until the moderators
    // joined there, and only then opens this channel.
    const viaRecordingProxy = conn.endpoints.viaProxy === true && conn.node.recorder.recordsAtProxy()
    const gate = viaRecordingProxy ? undefined : await sessionGate({user: conn.user, roles: conn.cert.roles}, conn.node.roles, request.kind !== 'sftp' && this.pty !== undefined)
    if (typeof gate === 'string') {
      conn.node.emit(EventName.SessionRejected, EventCode.SessionRejected, {...this.fields(), reason: gate})
      return this.refuse(channel, gate)
    }
    if (this.ended) return
    let recording: SessionRecording | undefined
    if (request.kind !== 'sftp') {
      try {
        recording = await conn.node.recorder.open(this.sid, conn.eventFields(), (message) => void this.endWith(message))
      } catch (err) {
        // Only node-sync refuses (RecordingRequiredError); anything else is a bug, still refused.
        const message = err instanceof RecordingRequiredError ? err.message : `cannot start the session's recording: ${(err as Error).message}`
        conn.node.log.warn(`session for ${conn.user} refused: ${message}`)
        return this.refuse(channel, message)
      }
      if (this.ended) return void recording?.abandon()
    }
    const session = new Session({sid: this.sid, clock: conn.node.clock, owner: {user: conn.user, roles: conn.cert.roles, login: conn.login}, ...(gate ? {gate} : {})})
    this.session = session
    if (viaRecordingProxy) conn.node.log.debug(`session ${this.sid} of ${conn.user} is audited, recorded and tracked by the proxy`)
    else if (request.kind === 'sftp') conn.node.emit(EventName.Subsystem, EventCode.Subsystem, {...this.fields(), name: 'sftp'})
    else session.addTap(sessionAuditTap({node: conn.node, sid: this.sid, eventFields: () => conn.eventFields()}))
    if (recording) session.addTap(recording.tap)
    if (request.kind !== 'sftp' && !viaRecordingProxy) session.addTap(conn.node.trackSession({sid: this.sid, user: conn.user, login: conn.login}))
    this.party = session.join({user: conn.user, mode: 'peer', roles: conn.cert.roles, output: sshChannelOutput(channel), input: channel})
    channel.once('close', () => this.hangUp())
    this.registry.add(session)
    void session.ended.then((exit) => {
      if (exit.spawnFailed) conn.node.log.warn(`cannot start a session for ${conn.user} as ${conn.login}: ${exit.startError}`)
      this.finish()
    })
    const terminal = request.kind !== 'sftp' && this.pty ? {cols: this.pty.cols, rows: this.pty.rows} : undefined
    session.start({...(request.command !== undefined ? {command: request.command} : {}), ...(terminal ? {terminal} : {})}, () => this.spawn(request))
  }

  /** Joins the running session `sid` as one more party, or refuses (stderr, exit status 255). */
  private async join(channel: ServerChannel, sid: string): Promise<void> {
    const outcome = await joinSession(this.conn, this.registry, {sid, mode: this.env[PARTICIPANT_MODE_ENV], output: sshChannelOutput(channel), input: channel})
    if ('refused' in outcome) {
      this.conn.node.log.info(`${this.conn.user} may not join session ${sid}: ${outcome.refused}`)
      return this.refuse(channel, outcome.refused)
    }
    this.joined = true
    this.party = outcome.joined
    if (this.ended || !channelOpen(channel)) return this.leaveJoined()
    channel.once('close', () => this.hangUp())
    void outcome.joined.left.then(() => this.finish())
  }

  /** A joined party leaves and its channel is closed (its session goes on). */
  private leaveJoined(): void {
    this.party?.leave()
    const channel = this.channel
    if (channel && channelOpen(channel)) {
      channel.eof()
      sendExitStatus(channel, 255)
      channel.close()
    }
    this.finish()
  }

  /** The session may not run: the reason on stderr, exit status 255, as sshd ends a refused session. */
  private async refuse(channel: ServerChannel, message: string): Promise<void> {
    if (channelOpen(channel)) {
      channel.stderr.write(`${message}\r\n`)
      await flush(channel.stderr, channel)
      channel.exit(255)
      channel.end()
    }
    this.finish()
  }

  private spawn(request: Request): Program {
    const {osLogin} = this.conn
    if (request.kind === 'sftp') return pipedProgram(spawnPiped({login: osLogin, argv: [SFTP_SERVER], env: this.buildEnv()}))
    const shell = osLogin.shell
    const argv: [string, ...string[]] = request.command === undefined ? [shell, '-l'] : [shell, '-c', request.command]
    const command = {login: osLogin, argv, env: this.buildEnv(request.originalCommand)}
    if (!this.pty) return pipedProgram(spawnPiped(command))
    return ptyProgram(spawnOnPty(command, {term: this.pty.term || 'xterm', cols: this.pty.cols, rows: this.pty.rows}))
  }

  private buildEnv(originalCommand?: string): Record<string, string> {
    return sessionEnv({
      login: this.conn.osLogin,
      endpoints: this.conn.endpoints,
      requested: this.env,
      ...(this.pty ? {term: this.pty.term || 'xterm'} : {}),
      ...(this.agent ? {agentSocket: this.agent.socketPath} : {}),
      ...(originalCommand !== undefined ? {originalCommand} : {}),
      teleport: this.teleportVars(),
    })
  }

  private teleportVars(): TeleportSessionVars {
    const {node, user} = this.conn
    const webProxyAddr = node.proxyWebAddr()
    return {user, sessionId: this.sid, hostUuid: node.hostUuid, clusterName: node.clusterName, ...(webProxyAddr ? {webProxyAddr} : {})}
  }

  private finish(): void {
    if (this.ended) return
    this.ended = true
    this.agent?.close()
  }
}
