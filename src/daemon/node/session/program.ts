import type {ChildProcess} from 'node:child_process'
import {constants} from 'node:os'
import type {IPty} from 'node-pty'

// The program a session runs, seen the same way whether it has a terminal (node-pty) or pipes
// (exec without a pty, sftp): output chunks, input with back-pressure, resize, signals, one exit.

export type OutputStream = 'stdout' | 'stderr'

export interface TerminalSize {
  cols: number
  rows: number
}

export interface SessionExit {
  /** Exit status; null when a signal ended the program. */
  code: number | null
  /** Signal name without SIG ("TERM"). */
  signal?: string
  /** Why the program could not start, told to the parties on stderr. */
  startError?: string
  /** Spawning threw: the program never ran, so there is no outcome of the command to report. */
  spawnFailed?: boolean
}

export interface Program {
  readonly terminal: boolean
  /** Every output chunk, in order. Attach at once: output is not held for a late listener. */
  onOutput(listener: (bytes: Buffer, stream: OutputStream) => void): void
  onExit(listener: (exit: SessionExit) => void): void
  /** Input for the program; false when it should wait for onceWritable. */
  write(bytes: Buffer): boolean
  onceWritable(callback: () => void): void
  /** EOF on stdin (a terminal has none: ^D is a byte like any other). */
  endInput(): void
  resize(size: TerminalSize): void
  /** Throws when the program is gone. */
  kill(signal: string): void
  /** Stops reading output (flow control); resume() reads again. */
  pause(): void
  resume(): void
  /**
   * Nobody is left to talk to: a terminal hangs up (SIGHUP, as when sshd closes the pty); a piped
   * program sees EOF on stdin and EPIPE on output, as under sshd.
   */
  hangUp(): void
}

export function signalName(signal: number | string | null | undefined): string | undefined {
  if (signal === null || signal === undefined || signal === 0) return undefined
  if (typeof signal === 'string') return signal.replace(/^SIG/, '')
  const entry = Object.entries(constants.signals).find(([, n]) => n === signal)
  return entry ? entry[0].replace(/^SIG/, '') : undefined
}

export function ptyProgram(pty: IPty): Program {
  return {
    terminal: true,
    onOutput(listener) {
      // spawned with encoding null: chunks are Buffers
      pty.onData((data) => {
        const chunk = data as unknown as Buffer | string
        listener(typeof chunk === 'string' ? Buffer.from(chunk) : chunk, 'stdout')
      })
    },
    onExit(listener) {
      pty.onExit(({exitCode, signal}) => {
        const sig = signalName(signal)
        listener(sig ? {code: null, signal: sig} : {code: exitCode})
      })
    },
    write(bytes) {
      try {
        pty.write(bytes)
      } catch {
        // the program already ended
      }
      return true
    },
    onceWritable: (callback) => callback(),
    endInput() {},
    resize(size) {
      try {
        pty.resize(Math.max(1, size.cols), Math.max(1, size.rows))
      } catch {
        // the program already ended
      }
    },
    kill: (signal) => pty.kill(signal),
    pause: () => pty.pause(),
    resume: () => pty.resume(),
    hangUp() {
      try {
        pty.kill('SIGHUP')
      } catch {
        // already gone
      }
    },
  }
}

export function pipedProgram(child: ChildProcess): Program {
  const {stdin, stdout, stderr} = child as ChildProcess & {stdin: NodeJS.WritableStream & {destroy(): void}; stdout: NodeJS.ReadableStream & {destroy(): void}; stderr: NodeJS.ReadableStream & {destroy(): void}}
  stdin.on('error', () => {}) // the program exited without reading: its exit status says so
  let spawnError: Error | undefined
  child.once('error', (err) => {
    spawnError = err
  })
  return {
    terminal: false,
    onOutput(listener) {
      stdout.on('data', (bytes: Buffer) => listener(bytes, 'stdout'))
      stderr.on('data', (bytes: Buffer) => listener(bytes, 'stderr'))
    },
    onExit(listener) {
      child.once('close', (code, signal) => {
        if (spawnError && code === null && signal === null) return listener({code: 255, startError: spawnError.message})
        const sig = signalName(signal)
        listener(sig ? {code, signal: sig} : {code})
      })
    },
    write: (bytes) => stdin.write(bytes),
    onceWritable: (callback) => void stdin.once('drain', callback),
    endInput: () => void stdin.end(),
    resize() {},
    kill: (signal) => void child.kill(signal as NodeJS.Signals),
    pause() {
      stdout.pause()
      stderr.pause()
    },
    resume() {
      stdout.resume()
      stderr.resume()
    },
    hangUp() {
      stdin.destroy()
      stdout.destroy()
      stderr.destroy()
    },
  }
}
