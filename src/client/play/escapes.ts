import type {TerminalSize} from '../../events/recording/index.js'

// What the player writes to the terminal besides the recorded output.

/** xterm's window resize (CSI 8 ; rows ; cols t): the recording's terminal size. */
export function resizeEscape(size: TerminalSize): string {
  return `\x1b[8;${size.rows};${size.cols}t`
}

/** Before replaying from an earlier position: a full reset (screen, modes, alternate screen). */
export const RESET_SCREEN = '\x1bc'

/** On every exit: plain attributes and the cursor shown (a recording may have hidden it). */
export const RESTORE_TERMINAL = '\x1b[0m\x1b[?25h'
