// The byte progress bar of `tsh scp` and `tsh recordings download`, redrawn in place on stderr
// (callers show it only when stderr is a terminal), in OpenSSH scp's shape:
//   notes.txt                                     45%  1.2MB   3.4MB/s   00:02 ETA
// and, when done, with the elapsed time instead of the ETA, then a newline. With no known total
// (a recording's size is not told before it streams) it shows bytes, rate and elapsed time.

import {progressMode, type ProgressStream} from './status-line.js'

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB']

/** 1536 → "1.5KB"; 10 MiB → "10MB"; under 1 KiB in bytes. */
export function formatBytes(n: number): string {
  let value = n
  let unit = 0
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024
    unit++
  }
  if (unit === 0) return `${Math.round(value)}B`
  return `${value >= 100 ? Math.round(value) : value.toFixed(1).replace(/\.0$/, '')}${UNITS[unit]}`
}

/** Seconds as MM:SS, or HH:MM:SS past an hour. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds))
  const hh = Math.floor(s / 3600)
  const mm = Math.floor((s % 3600) / 60)
  const ss = s % 60
  const two = (v: number) => String(v).padStart(2, '0')
  return hh > 0 ? `${two(hh)}:${two(mm)}:${two(ss)}` : `${two(mm)}:${two(ss)}`
}

export interface ProgressState {
  name: string
  transferred: number
  /** Undefined when not known in advance. */
  total?: number
  elapsedMs: number
  /** Terminal width. */
  columns: number
  done?: boolean
}

/** One line, exactly `columns - 1` characters wide (never wraps), for a `\r` redraw. */
export function renderProgress(state: ProgressState): string {
  const {transferred, total, elapsedMs} = state
  const seconds = elapsedMs / 1000
  const rate = seconds > 0 ? transferred / seconds : 0
  let time: string
  if (state.done || total === undefined) time = `${formatDuration(seconds)}    `
  else if (rate > 0) time = `${formatDuration((total - transferred) / rate)} ETA`
  else time = '--:-- ETA'
  const percent = total === undefined ? '' : ` ${String(total > 0 ? Math.min(100, Math.floor((transferred / total) * 100)) : 100).padStart(3)}%`
  const stats = `${percent} ${formatBytes(transferred).padStart(7)} ${(formatBytes(rate) + '/s').padStart(9)}   ${time}`
  const width = Math.max(20, state.columns - 1)
  const nameWidth = Math.max(1, width - stats.length)
  let name = state.name
  if (name.length > nameWidth) name = nameWidth > 3 ? '...' + name.slice(name.length - nameWidth + 3) : name.slice(0, nameWidth)
  return (name.padEnd(nameWidth) + stats).slice(0, width)
}

export interface ProgressOutput {
  write(text: string): unknown
  columns?: number
}

/** Redraws at most every `intervalMs`, and always on completion. */
export class ProgressBar {
  private readonly started: number
  private lastDraw = -Infinity
  private transferred = 0

  constructor(
    private readonly name: string,
    private readonly total: number | undefined,
    private readonly out: ProgressOutput,
    private readonly now: () => number = Date.now,
    private readonly intervalMs = 100,
  ) {
    this.started = now()
    this.draw(false)
  }

  update(transferred: number): void {
    this.transferred = transferred
    const t = this.now()
    if (t - this.lastDraw >= this.intervalMs) this.draw(false)
  }

  /** Final redraw with the elapsed time, then a newline. */
  done(): void {
    if (this.total !== undefined) this.transferred = this.total
    this.draw(true)
    this.out.write('\n')
  }

  /** The work failed: the line ends as it stands, so what is printed next starts a line of its own. */
  abandon(): void {
    this.out.write('\n')
  }

  private draw(done: boolean): void {
    const t = this.now()
    this.lastDraw = t
    const line = renderProgress({name: this.name, transferred: this.transferred, ...(this.total !== undefined ? {total: this.total} : {}), elapsedMs: t - this.started, columns: this.out.columns || 80, done})
    this.out.write('\r' + line)
  }
}

/**
 * Runs `work` with a byte bar named `name` on stderr when it is a terminal that takes redraws
 * (progressMode `animated`): `work` reports bytes through `onBytes` (undefined when nothing is
 * shown). The bar appears with the first bytes, and its line is ended before this settles.
 */
export async function withByteProgress<T>(
  name: string,
  work: (onBytes: ((received: number) => void) | undefined) => Promise<T>,
  options: {stream?: ProgressStream; env?: NodeJS.ProcessEnv; total?: number; now?: () => number} = {},
): Promise<T> {
  const stream = options.stream ?? process.stderr
  if (progressMode(stream, options.env) !== 'animated') return work(undefined)
  let bar: ProgressBar | undefined
  const onBytes = (received: number) => (bar ??= new ProgressBar(name, options.total, stream, options.now)).update(received)
  let result: T
  try {
    result = await work(onBytes)
  } catch (err) {
    bar?.abandon()
    throw err
  }
  bar?.done()
  return result
}
