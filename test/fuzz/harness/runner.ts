import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {Worker} from 'node:worker_threads'
import type {Encoded} from './corpus.js'
import type {Request, WorkerReply} from './messages.js'
import {Watchdog} from './watchdog.js'

// The runner side: one worker thread running targets one after another, watched from here. An
// input that runs longer than `timeoutMs` is a hang: the worker is stopped, the input taken from
// the shared watchdog area, and a fresh worker serves the next request. A worker out of memory
// (past `memoryMb`) is reported the same way.

export interface Failure {
  kind: 'error' | 'hang' | 'memory'
  message: string
  input: Encoded
  file?: string
}

export interface Report {
  target: string
  runs: number
  failures: Failure[]
}

export interface RunnerOptions {
  /** The module exporting the targets (arrays of them); default every target. */
  targets?: URL
  timeoutMs?: number
  memoryMb?: number
}

export class FuzzRunner {
  private worker: Worker | undefined
  private readonly watchdog = new Watchdog()
  /** Where targets write the files they read (see scratch.ts). */
  private readonly scratch = mkdtempSync(path.join(tmpdir(), 'fuzz-'))
  private readonly timeoutMs: number
  private readonly memoryMb: number
  private readonly targets: URL

  constructor(options: RunnerOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 1000
    this.memoryMb = options.memoryMb ?? 512
    this.targets = options.targets ?? new URL('../targets/index.ts', import.meta.url)
  }

  fuzz(target: string, runs: number, seed: number): Promise<Report> {
    return this.request({cmd: 'fuzz', target, runs, seed})
  }

  replay(target: string): Promise<Report> {
    return this.request({cmd: 'replay', target})
  }

  async close(): Promise<void> {
    const worker = this.worker
    this.worker = undefined
    await worker?.terminate()
    rmSync(this.scratch, {recursive: true, force: true})
  }

  private spawn(): Worker {
    this.worker ??= new Worker(new URL('./worker-boot.mjs', import.meta.url), {
      workerData: {buffer: this.watchdog.buffer, scratch: this.scratch, targets: this.targets.href},
      resourceLimits: {maxOldGenerationSizeMb: this.memoryMb},
    })
    return this.worker
  }

  private request(request: Request): Promise<Report> {
    const worker = this.spawn()
    return new Promise((resolve, reject) => {
      // The worker is stopped before its input is read, so the input cannot change under us.
      const stopped = async (kind: 'hang' | 'memory', message: string, sequence: number) => {
        this.worker = undefined
        await worker.terminate()
        const {truncated, ...input} = this.watchdog.current()
        const notes = [truncated ? 'input cut short' : '', this.watchdog.sequence() !== sequence ? 'it finished just as it was stopped: the input shown is the next one' : '']
        this.watchdog.end()
        const note = notes.filter(Boolean).join('; ')
        resolve({target: request.target, runs: 0, failures: [{kind, message: note ? `${message} (${note})` : message, input}]})
      }
      const timer = setInterval(() => {
        const sequence = this.watchdog.sequence()
        const busy = this.watchdog.busyFor()
        if (busy === undefined || busy <= this.timeoutMs) return
        done()
        void stopped('hang', `no answer after ${this.timeoutMs} ms`, sequence)
      }, Math.min(100, this.timeoutMs / 4))
      const done = () => {
        clearInterval(timer)
        worker.off('message', onMessage)
        worker.off('error', onError)
        worker.off('exit', onExit)
      }
      const onMessage = (reply: WorkerReply) => {
        done()
        if (reply.unknown) return reject(new Error(`no fuzz target named ${request.target}`))
        resolve({
          target: request.target,
          runs: reply.runs,
          failures: reply.failures.map((f) => ({kind: 'error', message: f.message, input: {ext: f.input.ext, data: Buffer.from(f.input.data)}, ...(f.file ? {file: f.file} : {})})),
        })
      }
      const onError = (err: Error & {code?: string}) => {
        done()
        if (err.code === 'ERR_WORKER_OUT_OF_MEMORY') return void stopped('memory', `more than ${this.memoryMb} MB of memory`, this.watchdog.sequence())
        this.worker = undefined
        reject(err)
      }
      const onExit = (code: number) => {
        done()
        this.worker = undefined
        reject(new Error(`fuzz worker exited (code ${code}) while running ${request.target}`))
      }
      worker.on('message', onMessage)
      worker.on('error', onError)
      worker.on('exit', onExit)
      worker.postMessage(request)
    })
  }
}
