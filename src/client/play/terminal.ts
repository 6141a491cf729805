import type {TerminalIn, TerminalOut} from '../ssh/session.js'
import {RESTORE_TERMINAL} from './escapes.js'
import {parseKeys} from './keys.js'
import type {Player, PlayerEnd} from './player.js'

// The player on the user's terminal: keys read in raw mode when stdin is a terminal, and the
// terminal given back on every way out (the end, a quit key, a signal, an error): raw mode off,
// attributes reset, cursor shown (on a terminal: a file or pipe gets only the recording).

export interface PlaybackTerminal {
  stdin: TerminalIn
  stdout: TerminalOut
  /** Where termination signals are heard (default: the process). */
  signals?: {on(signal: NodeJS.Signals, listener: () => void): unknown; off(signal: NodeJS.Signals, listener: () => void): unknown}
}

const QUIT_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const

export async function playOnTerminal(player: Player, terminal: PlaybackTerminal): Promise<PlayerEnd> {
  const {stdin, stdout, signals = process} = terminal
  const raw = stdin.isTTY === true && typeof stdin.setRawMode === 'function'
  const onKeys = (data: Buffer) => {
    for (const command of parseKeys(data)) player.command(command)
  }
  const onSignal = () => player.command('quit')
  for (const signal of QUIT_SIGNALS) signals.on(signal, onSignal)
  try {
    if (raw) {
      stdin.setRawMode!(true)
      stdin.on('data', onKeys)
      stdin.resume()
    }
    return await player.run()
  } catch (err) {
    // The error's line (a damaged recording) starts on a line of its own.
    if (stdout.isTTY) stdout.write('\r\n')
    throw err
  } finally {
    for (const signal of QUIT_SIGNALS) signals.off(signal, onSignal)
    if (raw) {
      stdin.off('data', onKeys)
      stdin.setRawMode!(false)
      stdin.pause()
    }
    if (stdout.isTTY) stdout.write(RESTORE_TERMINAL)
  }
}
