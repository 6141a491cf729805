// One line of progress at the bottom of a terminal (stderr), redrawn in place, that never
// corrupts other output: while it is installed, every write to the streams it guards (stdout and
// stderr by default) first erases the line, and the line is drawn again only once that output
// has ended its own line. Patching `write` is what makes this hold for writers that know nothing
// of it (the logger, the error printer, a node's output in `tsh ssh` on many nodes).

import {safeText} from '../safe-text.js'

export interface ProgressStream {
  write(chunk: string | Uint8Array, ...rest: never[]): unknown
  isTTY?: boolean
  columns?: number
}

/**
 * How progress shows on this stream: `animated` (redrawn with \r and erase-line), `plain` (its
 * text once, as a line of its own: NO_COLOR or TERM=dumb, where escape codes are unwelcome),
 * `off` (not a terminal: nothing at all).
 */
export type ProgressMode = 'animated' | 'plain' | 'off'

export function progressMode(stream: ProgressStream, env: NodeJS.ProcessEnv = process.env): ProgressMode {
  if (!stream.isTTY) return 'off'
  if ((env.NO_COLOR !== undefined && env.NO_COLOR !== '') || env.TERM === 'dumb') return 'plain'
  return 'animated'
}

const ERASE_LINE = '\r\x1b[K'

type Write = ProgressStream['write']

function endsLine(chunk: unknown): boolean {
  if (typeof chunk === 'string') return chunk.endsWith('\n')
  if (chunk instanceof Uint8Array) return chunk.length > 0 && chunk[chunk.length - 1] === 0x0a
  return true
}

export class StatusLine {
  private visible = false
  /** Someone else's output has not ended its line (a prompt): drawing now would overwrite it. */
  private midLine = false
  private readonly restore: (() => void)[] = []
  private readonly write: (text: string) => unknown

  constructor(private readonly stream: ProgressStream, guarded: readonly ProgressStream[] = [stream]) {
    const own = stream.write
    this.write = (text) => own.call(stream, text)
    for (const s of new Set([stream, ...guarded])) this.guard(s)
  }

  get columns(): number {
    return this.stream.columns || 80
  }

  /** Draws `text` in place of the line (cut to the terminal's width); false if it may not now. */
  show(text: string): boolean {
    if (this.midLine || this.restore.length === 0) return false
    this.write(ERASE_LINE + safeText(text).slice(0, Math.max(1, this.columns - 1)))
    this.visible = true
    return true
  }

  /** Prints `text` as a line of its own that stays (the plain variant). */
  print(text: string): boolean {
    if (this.midLine || this.restore.length === 0) return false
    this.write(safeText(text) + '\n')
    return true
  }

  clear(): void {
    if (!this.visible) return
    this.visible = false
    this.write(ERASE_LINE)
  }

  /** Leaves the line as drawn (a finished bar) and ends it; writes go through untouched again. */
  keep(): void {
    if (this.visible) this.write('\n')
    this.visible = false
    this.uninstall()
  }

  /** Erases the line and gives the streams their own `write` back. */
  close(): void {
    this.clear()
    this.uninstall()
  }

  private uninstall(): void {
    while (this.restore.length) this.restore.pop()!()
  }

  private guard(s: ProgressStream): void {
    const hadOwn = Object.prototype.hasOwnProperty.call(s, 'write')
    const original = s.write
    const line = this
    const patched = function (this: unknown, chunk: string | Uint8Array, ...rest: never[]): unknown {
      line.clear()
      line.midLine = !endsLine(chunk)
      return original.call(s, chunk, ...rest)
    } as Write
    s.write = patched
    this.restore.push(() => {
      if (s.write !== patched) return // someone patched over us: leave theirs in place
      if (hadOwn) s.write = original
      else delete (s as {write?: Write}).write
    })
  }
}
