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

export class ScreenTap implements SessionTap {
  private terminal: InstanceType<typeof Terminal> | undefined
  private serializer: InstanceType<typeof SerializeAddon> | undefined

  onStart(start: {terminal?: TerminalSize}): void {
    if (!start.terminal) return
    this.terminal = new Terminal({cols: start.terminal.cols, rows: start.terminal.rows, scrollback: SCROLLBACK_LINES, allowProposedApi: true})
    this.serializer = new SerializeAddon()
    this.terminal.loadAddon(this.serializer)
  }

  onOutput(bytes: Buffer): void {
    try {
      this.terminal?.write(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length))
    } catch {
      // xterm refuses more than 50 MB unparsed: the screen is lost, the session goes on
      this.terminal?.reset()
    }
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
