import type {PartyInfo} from './party.js'
import type {OutputStream, SessionExit, TerminalSize} from './program.js'

// The one place where everything that happens in a session passes, in order: every byte of
// output (before any party gets it, so a lagging party's dropped bytes are still seen here),
// every resize, parties coming and going, the start and the end. The audit events tap it
// (audit-tap.ts); the session recorder will.
//
// Taps are called synchronously and must not block: one that writes somewhere slow buffers on
// its own, since the program does not wait for it.

export interface SessionStart {
  /** The command asked for; absent for a login shell. */
  command?: string
  /** The terminal's size as requested; absent without a pty. */
  terminal?: TerminalSize
}

export interface SessionTap {
  onStart?(start: SessionStart, at: Date): void
  onOutput?(bytes: Buffer, at: Date, stream: OutputStream): void
  onResize?(size: TerminalSize, at: Date): void
  onPartyJoin?(party: PartyInfo, at: Date): void
  onPartyLeave?(party: PartyInfo, at: Date): void
  /** After every party was told the exit and closed. */
  onEnd?(exit: SessionExit, at: Date): void
}
