import type {ChildProcess} from 'node:child_process'
import {randomUUID} from 'node:crypto'
import {constants} from 'node:os'
import type {IPty} from 'node-pty'
import type {PseudoTtyInfo, ServerChannel, Session} from 'ssh2'
import {EventCode, EventName, type EventFields} from '../../events/index.js'
import {forwardAgent, type ForwardedAgent} from './agent-forwarding.js'
import {certAllows, type ConnectionContext} from './context.js'
import type {SessionEndFields} from './open-sessions.js'
import {isAcceptedEnv, sessionEnv, type TeleportSessionVars} from './session-env.js'
import {spawnOnPty, spawnPiped} from './spawn-as-login.js'
import {channelOpen, sendExitSignal, sendExitStatus} from '../../ssh/server-internals.js'

// One SSH session channel: the requests before the program (pty-req, env, auth-agent-req), then
// one of shell / exec / subsystem, then window-change and signal while it runs. The program runs
// as the OS login (spawn-as-login.ts). Output is flushed, then EOF, then exit-status or
// exit-signal, then the channel closes: OpenSSH's order.

export const SFTP_SERVER = '/usr/lib/openssh/sftp-server'

type Running = {kind: 'pty'; pty: IPty} | {kind: 'pipes'; child: ChildProcess}

interface ScpTransfer {
  action: 'upload' | 'download'
  path: string
}

/** Legacy scp (`scp -O`) arrives as exec "scp -t <path>" (upload) or "scp -f <path>" (download). */
export function parseScpCommand(command: string): ScpTransfer | undefined {
  const words = command.trim().split(/\s+/)
  if (!words[0] || words[0].split('/').pop() !== 'scp') return undefined
  let action: ScpTransfer['action'] | undefined
  for (const word of words.slice(1)) {
    if (!/^-[A-Za-z]+$/.test(word)) continue
    if (word.includes('t')) action = 'upload'
    else if (word.includes('f')) action = 'download'
  }
  if (!action) return undefined
  return {action, path: words[words.length - 1] ?? ''}
}

function signalName(signal: number | string | null | undefined): string | undefined {
  if (signal === null || signal === undefined || signal === 0) return undefined
  if (typeof signal === 'string') return signal.replace(/^SIG/, '')
  const entry = Object.entries(constants.signals).find(([, n]) => n === signal)
  return entry ? entry[0].replace(/^SIG/, '') : undefined
}

export class SessionChannel {
  readonly sid = randomUUID()
  private readonly env: Record<string, string> = {}
  private pty: PseudoTtyInfo | undefined
  private agent: ForwardedAgent | undefined
  private running: Running | undefined
  private channel: ServerChannel | undefined
  private kind: 'shell' | 'exec' | 'sftp' | undefined
  /** Requests answered asynchronously (agent forwarding) that the program must wait for. */
  private preparing: Promise<unknown> = Promise.resolve()
  private ended = false
  private startedAt = new Date()

  constructor(
    private readonly conn: ConnectionContext,
    private readonly session: Session,
    private readonly registry: Set<SessionChannel>,
  ) {
    registry.add(this)
    session.on('pty', (accept, reject, info) => {
      if (!certAllows(conn.cert, 'permit-pty') || this.channel) return reject?.()
      this.pty = info
      accept?.()
    })
    session.on('window-change', (accept, reject, info) => {
      if (this.pty) Object.assign(this.pty, {cols: info.cols, rows: info.rows, width: info.width, height: info.height})
      if (this.running?.kind === 'pty') {
        try {
          this.running.pty.resize(Math.max(1, info.cols), Math.max(1, info.rows))
        } catch {
          // the program already ended
        }
      }
      accept?.()
    })
    session.on('env', (accept, reject, info) => {
      if (this.channel || !isAcceptedEnv(info.key)) return reject?.()
      this.env[info.key] = info.val
      accept?.()
    })
    session.on('auth-agent', (accept, reject) => {
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
    session.on('x11', (_accept, reject) => reject?.())
    session.on('signal', (accept, reject, info) => {
      const name = `SIG${String(info.name).replace(/^SIG/, '')}`
      if (!this.running || !Object.hasOwn(constants.signals, name)) return reject?.()
      try {
        if (this.running.kind === 'pty') this.running.pty.kill(name)
        else this.running.child.kill(name as NodeJS.Signals)
        accept?.()
      } catch {
        reject?.()
      }
    })
    // A certificate's force-command replaces whatever the client asked to run.
    const forced = conn.cert.criticalOptions['force-command']
    // Accepted at once (the client may send EOF right after the request, which would make a later
    // accept impossible); the program starts once pending requests (agent forwarding) are done.
    session.on('shell', (accept) => {
      const channel = accept()
      void this.preparing.then(() => this.start(channel, forced !== undefined ? {command: forced, originalCommand: ''} : {command: undefined}))
    })
    session.on('exec', (accept, _reject, info) => {
      const channel = accept()
      void this.preparing.then(() => this.start(channel, forced !== undefined ? {command: forced, originalCommand: info.command} : {command: info.command}))
    })
    session.on('subsystem', (accept, reject, info) => {
      if (info.name !== 'sftp') {
        conn.node.emit(EventName.Subsystem, EventCode.SubsystemFailure, {...this.fields(), name: info.name, error: `unknown subsystem "${info.name}"`})
        return reject?.()
      }
      const channel = accept()
      void this.preparing.then(() => (forced !== undefined ? this.start(channel, {command: forced, originalCommand: ''}) : this.startSftp(channel)))
    })
    session.on('close', () => this.hangUp())
  }

  /** Ends the program (the node is stopping). */
  terminate(): void {
    this.kill('SIGHUP')
    this.hangUp()
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

  /**
   * The client closed the channel or the connection dropped: a terminal hangs up (SIGHUP, as when
   * sshd closes the pty); a piped program sees EOF on stdin and EPIPE on output, as under sshd.
   */
  hangUp(): void {
    const running = this.running
    if (!running) return this.finish(undefined)
    if (running.kind === 'pty') return this.kill('SIGHUP')
    running.child.stdin?.destroy()
    running.child.stdout?.destroy()
    running.child.stderr?.destroy()
  }

  private fields(): EventFields {
    return {...this.conn.eventFields(), sid: this.sid}
  }

  /** What session.end says about a session, known from its start (kept on disk for a crash). */
  private endFields(): SessionEndFields {
    return {...this.fields(), sid: this.sid, interactive: this.pty !== undefined, participants: [this.conn.user], session_start: this.startedAt.toISOString()}
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

  private start(channel: ServerChannel | undefined, request: {command: string | undefined; originalCommand?: string}): void {
    if (!channel || this.ended) return
    this.channel = channel
    this.kind = request.command === undefined ? 'shell' : 'exec'
    this.startedAt = new Date()
    channel.once('close', () => this.hangUp())
    const {conn} = this
    const shell = conn.osLogin.shell
    const argv: [string, ...string[]] = request.command === undefined ? [shell, '-l'] : [shell, '-c', request.command]
    const scp = request.command === undefined ? undefined : parseScpCommand(request.command)
    const interactive = this.pty !== undefined
    conn.node.emit(EventName.SessionStart, EventCode.SessionStart, {
      ...this.fields(),
      interactive,
      ...(this.pty ? {terminal_size: `${this.pty.cols}:${this.pty.rows}`} : {}),
      ...(request.command !== undefined ? {command: request.command} : {}),
    })
    conn.node.openSessions.opened(this.endFields())
    const onExit = (code: number | null, signal: string | undefined) => {
      if (request.command !== undefined) {
        const exitCode = code ?? (signal ? 255 : 0)
        const failed = exitCode !== 0 || signal !== undefined
        const detail = {...this.fields(), command: request.command, exitCode: String(exitCode), ...(signal ? {signal} : {})}
        if (scp) {
          const code_ = scp.action === 'upload' ? (failed ? EventCode.SCPUploadFailure : EventCode.SCPUpload) : failed ? EventCode.SCPDownloadFailure : EventCode.SCPDownload
          conn.node.emit(EventName.SCP, code_, {...detail, path: scp.path, action: scp.action})
        } else {
          conn.node.emit(EventName.Exec, failed ? EventCode.ExecFailure : EventCode.Exec, {...detail, ...(failed ? {exitError: signal ? `killed by SIG${signal}` : `exit status ${exitCode}`} : {})})
        }
      }
    }
    try {
      const command = {login: conn.osLogin, argv, env: this.buildEnv(request.originalCommand)}
      if (this.pty) this.runOnPty(channel, spawnOnPty(command, {term: this.pty.term || 'xterm', cols: this.pty.cols, rows: this.pty.rows}), onExit)
      else this.runPiped(channel, spawnPiped(command), onExit)
    } catch (err) {
      this.failStart(channel, err as Error)
    }
  }

  private startSftp(channel: ServerChannel | undefined): void {
    if (!channel || this.ended) return
    this.channel = channel
    this.kind = 'sftp'
    this.startedAt = new Date()
    channel.once('close', () => this.hangUp())
    this.conn.node.emit(EventName.Subsystem, EventCode.Subsystem, {...this.fields(), name: 'sftp'})
    try {
      this.runPiped(channel, spawnPiped({login: this.conn.osLogin, argv: [SFTP_SERVER], env: this.buildEnv()}), () => {})
    } catch (err) {
      this.failStart(channel, err as Error)
    }
  }

  private failStart(channel: ServerChannel, err: Error): void {
    this.conn.node.log.warn(`cannot start a session for ${this.conn.user} as ${this.conn.login}: ${err.message}`)
    channel.stderr.write(`failed to start the session: ${err.message}\r\n`)
    sendExitStatus(channel, 255)
    channel.end()
    this.finish(255)
  }

  private runPiped(channel: ServerChannel, child: ChildProcess, onExit: (code: number | null, signal: string | undefined) => void): void {
    this.running = {kind: 'pipes', child}
    child.stdin!.on('error', () => {}) // the program exited without reading: its exit status says so
    channel.pipe(child.stdin!)
    child.stdout!.pipe(channel, {end: false})
    child.stderr!.pipe(channel.stderr, {end: false})
    let spawnError: Error | undefined
    child.once('error', (err) => {
      spawnError = err
    })
    child.once('close', (code, signal) => {
      if (spawnError && code === null && signal === null) {
        channel.stderr.write(`failed to start the session: ${spawnError.message}\r\n`)
        code = 255
      }
      const sig = signalName(signal)
      onExit(code, sig)
      void this.complete(channel, code, sig)
    })
  }

  private runOnPty(channel: ServerChannel, pty: IPty, onExit: (code: number | null, signal: string | undefined) => void): void {
    this.running = {kind: 'pty', pty}
    let paused = false
    pty.onData((data) => {
      const chunk = data as unknown as Buffer | string
      if (!channel.write(chunk) && !paused) {
        paused = true
        pty.pause()
        channel.once('drain', () => {
          paused = false
          pty.resume()
        })
      }
    })
    channel.on('data', (data: Buffer) => {
      try {
        pty.write(data)
      } catch {
        // the program already ended
      }
    })
    pty.onExit(({exitCode, signal}) => {
      const sig = signalName(signal)
      const code = sig ? null : exitCode
      onExit(code, sig)
      void this.complete(channel, code, sig)
    })
  }

  /** Output flushed, EOF, exit-status (or exit-signal), close. */
  private async complete(channel: ServerChannel, code: number | null, signal: string | undefined): Promise<void> {
    try {
      if (channelOpen(channel)) {
        await flush(channel, channel)
        await flush(channel.stderr, channel)
      }
      if (channelOpen(channel)) {
        channel.eof()
        if (signal) sendExitSignal(channel, signal, false, constants.signals[`SIG${signal}` as keyof typeof constants.signals] ?? 0)
        else sendExitStatus(channel, code ?? 0)
        channel.close()
      }
    } finally {
      this.finish(code ?? undefined)
    }
  }

  private kill(signal: NodeJS.Signals): void {
    try {
      if (this.running?.kind === 'pty') this.running.pty.kill(signal)
      else this.running?.child.kill(signal)
    } catch {
      // already gone
    }
  }

  private finish(exitCode: number | undefined): void {
    if (this.ended) return
    this.ended = true
    this.registry.delete(this)
    this.agent?.close()
    if (this.kind === 'shell' || this.kind === 'exec') {
      this.conn.node.emit(EventName.SessionEnd, EventCode.SessionEnd, {
        ...this.endFields(),
        session_stop: new Date().toISOString(),
        ...(exitCode !== undefined ? {exitCode: String(exitCode)} : {}),
      })
      this.conn.node.openSessions.closed(this.sid)
    }
  }
}

/**
 * Resolves once everything written so far has gone out: an empty write queues behind it, and its
 * callback runs when ssh2 has sent what was before it (within the client's window). A channel
 * closing meanwhile resolves too (ssh2 then never calls back).
 */
function flush(stream: NodeJS.WritableStream & {writable?: boolean}, channel: ServerChannel): Promise<void> {
  if (!stream.writable) return Promise.resolve()
  return new Promise((resolve) => {
    channel.once('close', resolve)
    try {
      stream.write(Buffer.alloc(0), () => resolve())
    } catch {
      resolve()
    }
  })
}
