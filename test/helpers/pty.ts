import path from 'node:path'
import pty from 'node-pty'
import {repoRoot} from './cli.js'

export interface Pty {
  output: () => string
  waitFor: (pattern: RegExp) => Promise<void>
  write: (text: string) => void
  /** The terminal's size changes, as when its window is resized (the program gets SIGWINCH). */
  resize: (cols: number, rows: number) => void
  exit: Promise<number>
}

/** The end of what a program printed, which says most about why it stopped (reports cut long messages). */
function outputTail(out: string): string {
  const TAIL = 1500
  return out.length <= TAIL ? `output:\n${out}` : `last ${TAIL} of ${out.length} characters of output:\n${out.slice(-TAIL)}`
}

/** A program in a real pseudo-terminal, as a user at a terminal runs it. */
export function inPty(file: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Pty {
  const term = pty.spawn(file, args, {name: 'xterm', cols: 160, rows: 40, cwd: repoRoot, env: env as Record<string, string>})
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
  return {
    output: () => out,
    write: (text) => term.write(text),
    resize: (cols, rows) => term.resize(cols, rows),
    exit,
    waitFor: (pattern) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (!pattern.test(out)) return
          waiters.delete(check)
          resolve()
        }
        waiters.add(check)
        void exit.then((code) => {
          if (waiters.delete(check)) reject(new Error(`${path.basename(file)} ${timedOut ? `was killed after ${timeoutMs} ms` : `exited (code ${code})`} before printing ${pattern}; ${outputTail(out)}`))
        })
        check()
      }),
  }
}
