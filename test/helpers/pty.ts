import path from 'node:path'
import pty from 'node-pty'
import {repoRoot} from './cli.js'

export interface Pty {
  output: () => string
  waitFor: (pattern: RegExp) => Promise<void>
  write: (text: string) => void
  /** The terminal's size changes, as when its window is resized (the program gets SIGWINCH). */
  resize: (cols: number, rows: number) => void
  /**
   * Resizes the window, then types `stty size` at the remote shell until it prints the new size.
   * The client learns of a resize from SIGWINCH, asynchronously, so a line typed at once may reach
   * the remote before its window-change does (with OpenSSH too); the test waits as a user would.
   */
  resizeRemote: (cols: number, rows: number) => Promise<void>
  exit: Promise<number>
}

/** The end of what a program printed, which says most about why it stopped (reports cut long messages). */
function outputTail(out: string): string {
  const TAIL = 1500
  return out.length <= TAIL ? `output:\n${out}` : `last ${TAIL} of ${out.length} characters of output:\n${out.slice(-TAIL)}`
}

/** A program in a real pseudo-terminal, as a user at a terminal runs it. */
export interface PtyOptions {
  /** The program is killed after this long (its waits then fail, saying so). */
  timeoutMs?: number
  cols?: number
  rows?: number
  /** TERM. */
  term?: string
}

export function inPty(file: string, args: string[], env: NodeJS.ProcessEnv, options: PtyOptions = {}): Pty {
  const timeoutMs = options.timeoutMs ?? 60_000
  const term = pty.spawn(file, args, {name: options.term ?? 'xterm', cols: options.cols ?? 160, rows: options.rows ?? 40, cwd: repoRoot, env: env as Record<string, string>})
  let out = ''
  const waiters = new Set<() => void>()
  term.onData((d) => {
    out += d
    for (const w of [...waiters]) w()
  })
  const exit = new Promise<number>((resolve) => term.onExit(({exitCode}) => resolve(exitCode)))
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    term.kill()
  }, timeoutMs)
  void exit.then(() => clearTimeout(timer))
  /** Resolves true once `pattern` matches the output from `from` on; false after `withinMs`. */
  const waitFor = (pattern: RegExp, from = 0, withinMs = Infinity): Promise<boolean> =>
    new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined
      const check = () => {
        if (!pattern.test(out.slice(from))) return
        waiters.delete(check)
        clearTimeout(timer)
        resolve(true)
      }
      waiters.add(check)
      if (withinMs !== Infinity) timer = setTimeout(() => waiters.delete(check) && resolve(false), withinMs)
      void exit.then((code) => {
        if (!waiters.delete(check)) return
        clearTimeout(timer)
        reject(new Error(`${path.basename(file)} ${timedOut ? `was killed after ${timeoutMs} ms` : `exited (code ${code})`} before printing ${pattern}; ${outputTail(out)}`))
      })
      check()
    })
  return {
    output: () => out,
    write: (text) => term.write(text),
    resize: (cols, rows) => term.resize(cols, rows),
    async resizeRemote(cols, rows) {
      term.resize(cols, rows)
      const from = out.length
      for (;;) {
        term.write('stty size\r')
        if (await waitFor(new RegExp(`(?<![0-9])${rows} ${cols}\\r?\\n`), from, 2_000)) return
      }
    },
    exit,
    waitFor: async (pattern) => void (await waitFor(pattern)),
  }
}
