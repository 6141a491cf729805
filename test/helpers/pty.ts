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
  const timer = setTimeout(() => term.kill(), timeoutMs)
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
        void exit.then(() => {
          if (waiters.delete(check)) reject(new Error(`${path.basename(file)} exited before printing ${pattern}; output:\n${out}`))
        })
        check()
      }),
  }
}
