import serializeAddon from '@xterm/addon-serialize'
import headless from '@xterm/headless'
import type {TerminalSize} from './program.js'
import type {SessionTap} from './tap.js'

// The screen of an interactive session as a terminal shows it now, kept by a headless terminal
// fed from the session's tap (output and resizes): what a party joining later is shown first.
// The serialized screen redraws full-screen programs (top, vim: the alternate screen, cursor,
// colours) as well as a prompt with the output above it (up to SCROLLBACK_LINES).

const {Terminal} = headless
const {SerializeAddon} = serializeAddon

const SCROLLBACK_LINES = 200
/** Output waiting to be parsed, at most (xterm itself would take 50 MB before refusing). */
const MAX_BACKLOG_BYTES = 1 << 20

export class ScreenTap implements SessionTap {
  private terminal: InstanceType<typeof Terminal> | undefined
  private serializer: InstanceType<typeof SerializeAddon> | undefined
  private backlog = 0
  private skipped = false

  onStart(start: {terminal?: TerminalSize}): void {
    if (!start.terminal) return
    this.terminal = new Terminal({cols: start.terminal.cols, rows: start.terminal.rows, scrollback: SCROLLBACK_LINES, allowProposedApi: true})
    this.serializer = new SerializeAddon()
    this.terminal.loadAddon(this.serializer)
  }

  onOutput(bytes: Buffer): void {
    const terminal = this.terminal
    if (!terminal) return
    // xterm parses about 15 MB/s: a program printing faster is not waited for. Beyond the
    // backlog, output is skipped; once it is parsed, the screen starts again from a clean one
    // (what was skipped cannot be drawn; a flood of output redraws it soon).
    if (this.backlog > MAX_BACKLOG_BYTES) {
      this.skipped = true
      return
    }
    if (this.skipped) {
      this.skipped = false
      terminal.reset()
    }
    this.backlog += bytes.length
    terminal.write(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length), () => (this.backlog -= bytes.length))
  }

  onResize(size: TerminalSize): void {
    this.terminal?.resize(Math.max(1, size.cols), Math.max(1, size.rows))
  }

  onEnd(): void {
    this.terminal?.dispose()
    this.terminal = undefined
  }

  /**
   * The screen with every byte written before this call applied (xterm parses asynchronously; a
   * callback on an empty write runs right after what came before it, before anything later).
   */
  snapshot(): Promise<string> {
    const terminal = this.terminal
    const serializer = this.serializer
    if (!terminal || !serializer) return Promise.resolve('')
    return new Promise((resolve) => terminal.write('', () => resolve(this.terminal === terminal ? serializer.serialize({scrollback: SCROLLBACK_LINES}) : '')))
  }
}
