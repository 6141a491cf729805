import type {RecordingWriter} from '../../../events/recording/index.js'
import type {TerminalSize} from '../session/program.js'
import type {SessionTap} from '../session/tap.js'

// A session's recording, from its tap (the writer adds the session's fields to every event): session.start, every byte of output, resizes, parties
// joining and leaving after the start, and session.end. The writer buffers and writes on its own
// (writer.ts): nothing here waits for the disk, so recording never slows the session down.

/** Without a pty there is no terminal; players still need a size, and this is a terminal's usual one. */
export const EXEC_TERMINAL_SIZE: TerminalSize = {cols: 80, rows: 25}

export function recorderTap(writer: RecordingWriter, onEnd: (closed: Promise<void>) => void): SessionTap {
  let started = false
  let interactive = false
  return {
    onStart(start) {
      started = true
      interactive = start.terminal !== undefined
      const size = start.terminal ?? EXEC_TERMINAL_SIZE
      writer.start({size: `${size.cols}:${size.rows}`})
    },
    onOutput(bytes) {
      if (started) writer.print(bytes)
    },
    onResize(size) {
      if (started) writer.resize(`${size.cols}:${size.rows}`)
    },
    // The starter joins before the start (session.start names them); later parties are recorded.
    onPartyJoin(party) {
      if (started) writer.join({user: party.user, participant_mode: party.mode})
    },
    onPartyLeave(party) {
      if (started) writer.leave({user: party.user})
    },
    onEnd() {
      onEnd(started ? writer.end({interactive}) : writer.close())
    },
  }
}
