import {constants} from 'node:os'
import type {PseudoTtyInfo, Session as SshSession} from 'ssh2'
import type {ParsedCert} from '../../../sshca/index.js'
import {certAllows} from '../context.js'
import type {Session} from './session.js'

// The requests of a session channel that a node and a recording proxy (standing in for a node)
// answer alike: pty (when the certificate permits one, before the program starts), window-change
// (kept for the program to come, passed to a running one), signal (a known name, to the running
// program) and x11 (not offered).

export interface ChannelRequestHooks {
  /** The program has been asked for (shell, exec or subsystem): too late for a pty. */
  started(): boolean
  /** The session the channel runs, once it runs. */
  session(): Session | undefined
}

/** Answers those requests on `ssh`; the result is the pty asked for, with the latest size. */
export function answerTerminalRequests(ssh: SshSession, cert: ParsedCert, hooks: ChannelRequestHooks): () => PseudoTtyInfo | undefined {
  let pty: PseudoTtyInfo | undefined
  ssh.on('pty', (accept, reject, info) => {
    if (!certAllows(cert, 'permit-pty') || hooks.started()) return reject?.()
    pty = info
    accept?.()
  })
  ssh.on('window-change', (accept, _reject, info) => {
    if (pty) Object.assign(pty, {cols: info.cols, rows: info.rows, width: info.width, height: info.height})
    hooks.session()?.resize({cols: info.cols, rows: info.rows})
    accept?.()
  })
  ssh.on('signal', (accept, reject, info) => {
    const name = `SIG${String(info.name).replace(/^SIG/, '')}`
    if (!Object.hasOwn(constants.signals, name) || !hooks.session()?.signal(name)) return reject?.()
    accept?.()
  })
  ssh.on('x11', (_accept, reject) => reject?.())
  return () => pty
}
