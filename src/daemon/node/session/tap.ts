import type {SessionState} from '../../../services/models/session-tracker.js'
import type {PartyInfo} from './party.js'
import type {OutputStream, SessionExit, TerminalSize} from './program.js'

// The one place where everything that happens in a session passes, in order: every byte of
// output (before any party gets it, so a lagging party's dropped bytes are still seen here),
// every resize, parties coming and going, the start, the state and the end. The audit events
// tap it (audit-tap.ts), so do the recorder, the screen kept for joining parties (screen-tap.ts)
// and the session tracker.
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
  /**
   * PENDING (a moderated session waiting for its required participants, before its program
   * starts or while paused) or RUNNING; first called right after onStart, then on each change.
   */
  onStateChange?(state: Exclude<SessionState, 'TERMINATED'>, at: Date, reason?: string): void
  /** After every party was told the exit and closed. */
  onEnd?(exit: SessionExit, at: Date): void
}
