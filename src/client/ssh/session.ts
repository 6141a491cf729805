import {spawnSync} from 'node:child_process'
import type {Readable, Writable} from 'node:stream'
import type ssh2 from 'ssh2'
import {UserError} from '../../lib/errors.js'
import {safeText} from '../../lib/safe-text.js'
import {EscapeFilter, escapeHelp} from './escape.js'

// One session on a node: an interactive shell or a command, with or without a pseudo-terminal.
// stdin goes to the node, the node's stdout and stderr come back separately, EOF travels both
// ways, and the remote exit status becomes ours.
//
// Exit status: the remote command's status. A command killed by a signal, a connection that
// ended without a status, and a `~.` disconnect give 255, as OpenSSH's ssh does (and Teleport's
// tsh, through Go's ssh package); the signal's name goes to the debug log. A connection that
// dropped is said so on stderr, in OpenSSH's words.

export const EXIT_NO_STATUS = 255

export interface TerminalIn extends Readable {
  isTTY?: boolean
  setRawMode?(mode: boolean): unknown
}

export interface TerminalOut extends Writable {
  isTTY?: boolean
  columns?: number
  rows?: number
}

export interface SessionOptions {
  /** Words of the remote command (joined with spaces, as OpenSSH does); empty: a login shell. */
  command: string[]
  pty: boolean
  forwardAgent: boolean
  /** Escape character for `~.`/`~?`; undefined disables escapes. Active only on a pty with a terminal. */
  escapeChar?: string
  /** Do not read stdin (`-n`); the node sees EOF at once. */
  noStdin?: boolean
  /** Environment to send (LANG, LC_*, ...). */
  env?: Record<string, string>
  /** For messages ("Connection to node-1 closed."). */
  host: string
  stdin: TerminalIn
  stdout: TerminalOut
  stderr: Writable
  /** Debug lines. */
  log?: (line: string) => void
  /** Called with a warning line for the user (stderr). */
  warn?: (line: string) => void
  /** Subscribe to terminal resizes; returns the unsubscribe. Default: SIGWINCH. */
  onResize?: (listener: () => void) => () => void
}

/** The locale variables OpenSSH sends by default (Debian's SendEnv LANG LC_*), and Teleport's own. */
export function sessionEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) continue
    if (key === 'LANG' || key === 'LANGUAGE' || key.startsWith('LC_')) out[key] = value
  }
  return out
}

function ptyOptions(out: TerminalOut): ssh2.PseudoTtyOptions {
  return {term: process.env.TERM || 'xterm', cols: out.columns || 80, rows: out.rows || 24, width: 0, height: 0}
}

function openChannel(client: ssh2.Client, options: SessionOptions, agentForward: boolean): Promise<ssh2.ClientChannel> {
  const env = options.env ?? {}
  const pty = options.pty ? ptyOptions(options.stdout) : undefined
  return new Promise((resolve, reject) => {
    const done = (err: Error | undefined, channel: ssh2.ClientChannel) => (err ? reject(err) : resolve(channel))
    try {
      if (options.command.length > 0) {
        client.exec(options.command.join(' '), {env, ...(pty ? {pty} : {}), ...(agentForward ? {agentForward: true} : {})} as ssh2.ExecOptions, done)
      } else {
        client.shell(pty ?? false, {env, ...(agentForward ? {agentForward: true} : {})} as ssh2.ShellOptions, done)
      }
    } catch (err) {
      reject(err as Error)
    }
  })
}

async function openWithAgentFallback(client: ssh2.Client, options: SessionOptions): Promise<ssh2.ClientChannel> {
  try {
    return await openChannel(client, options, options.forwardAgent)
  } catch (err) {
    if (!options.forwardAgent || !/agent forwarding/i.test((err as Error).message)) {
      throw new UserError(`the node ${options.host} refused the session: ${(err as Error).message}`)
    }
    // OpenSSH carries on without the agent when the server refuses to forward it.
    options.warn?.(`WARNING: ${options.host} refused agent forwarding; continuing without it`)
    return openChannel(client, options, false)
  }
}

/**
 * libuv's raw mode keeps the terminal's output processing (ONLCR: "\n" printed as "\r\n"), which
 * OpenSSH's raw mode turns off: a full-screen program on the node that moves the cursor down with
 * a bare "\n" would otherwise be sent back to column 0. `stty -opost` on our terminal does it.
 */
function disableOutputProcessing(): void {
  try {
    spawnSync('stty', ['-opost'], {stdio: ['inherit', 'ignore', 'ignore'], timeout: 5_000})
  } catch {
    // no stty: output keeps ONLCR, which only matters to a few full-screen programs
  }
}

/** What OpenSSH's ssh says when the server's side of the connection went away. */
export function closedByRemoteHost(host: string, newline = '\n'): string {
  return `Connection to ${host} closed by remote host.${newline}`
}

/** Runs the session to its end; resolves with the exit status to exit with. */
export async function runSession(client: ssh2.Client, options: SessionOptions): Promise<number> {
  const channel = await openWithAgentFallback(client, options)
  const {stdin, stdout, stderr} = options
  const raw = options.pty && stdin.isTTY === true && typeof stdin.setRawMode === 'function'
  const escapes = raw && options.escapeChar !== undefined ? new EscapeFilter(options.escapeChar) : undefined
  const newline = raw ? '\r\n' : '\n'

  return new Promise<number>((resolve) => {
    let status: number | undefined
    let finished = false
    /** Set by a ~. disconnect: whatever the node still sends is not shown. */
    let muted = false
    const cleanups: Array<() => void> = []

    const finish = (code: number) => {
      if (finished) return
      finished = true
      for (const cleanup of cleanups.reverse()) {
        try {
          cleanup()
        } catch {
          // best effort: restoring the terminal must not throw over the result
        }
      }
      resolve(code)
    }

    channel.on('exit', (code: number | null, signal?: string) => {
      if (typeof code === 'number') status = code
      else if (signal) {
        options.log?.(`remote command terminated by signal ${signal}`)
        status = EXIT_NO_STATUS
      }
    })
    // The connection itself ended (the node or the path to it went away) before an exit status.
    let dropped = false
    const onDropped = () => (dropped = true)
    client.once('end', onDropped)
    client.once('close', onDropped)
    cleanups.push(() => {
      client.off('end', onDropped)
      client.off('close', onDropped)
    })
    channel.once('close', () => {
      if (status === undefined && dropped && !muted) stderr.write(closedByRemoteHost(options.host, newline))
      // Let the last output reach stdout before reporting.
      stdout.write('', () => finish(status ?? EXIT_NO_STATUS))
    })

    // Our output went away (`tsh ssh node yes | head -1`): stop, as OpenSSH does; the remote
    // command sees its channel close.
    const onOutputGone = () => {
      channel.close()
      finish(EXIT_NO_STATUS)
    }
    stdout.on('error', onOutputGone)
    stderr.on('error', onOutputGone)
    cleanups.push(() => {
      stdout.off('error', onOutputGone)
      stderr.off('error', onOutputGone)
      // A late EPIPE must not become an uncaught exception.
      stdout.on('error', () => {})
      stderr.on('error', () => {})
    })

    // Node → us, with backpressure on our stdout/stderr.
    channel.on('data', (chunk: Buffer) => {
      if (muted) return
      if (!stdout.write(chunk)) {
        channel.pause()
        stdout.once('drain', () => channel.resume())
      }
    })
    channel.stderr.on('data', (chunk: Buffer) => {
      if (muted) return
      if (!stderr.write(chunk)) {
        channel.stderr.pause()
        stderr.once('drain', () => channel.stderr.resume())
      }
    })

    if (raw) {
      stdin.setRawMode!(true)
      if (stdin === process.stdin) disableOutputProcessing()
      // Back to cooked mode; libuv restores the terminal settings it saved, output processing included.
      cleanups.push(() => stdin.setRawMode!(false))
    }
    if (options.pty) {
      const resize = () => channel.setWindow(stdout.rows || 24, stdout.columns || 80, 0, 0)
      const subscribe = options.onResize ?? ((listener: () => void) => {
        process.on('SIGWINCH', listener)
        return () => process.off('SIGWINCH', listener)
      })
      cleanups.push(subscribe(resize))
    }

    if (options.noStdin) {
      channel.end()
      return
    }
    const send = (chunk: Buffer) => {
      if (!channel.write(chunk)) {
        stdin.pause()
        channel.once('drain', () => stdin.resume())
      }
    }
    const onData = (chunk: Buffer | string) => {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
      if (!escapes) return send(buf)
      for (const event of escapes.push(buf)) {
        if (event === 'help') stderr.write(escapeHelp(options.escapeChar))
        else if (event === 'disconnect') {
          muted = true
          // Still in raw mode: the line ends are ours to write.
          stderr.write(`${newline}Connection to ${safeText(options.host)} closed.${newline}`)
          finish(EXIT_NO_STATUS)
          channel.close()
          client.end()
          return
        } else send(event)
      }
    }
    const onEnd = () => channel.end()
    stdin.on('data', onData)
    stdin.once('end', onEnd)
    cleanups.push(() => {
      stdin.off('data', onData)
      stdin.off('end', onEnd)
      stdin.pause()
    })
    stdin.resume()
  })
}
