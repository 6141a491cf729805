import type {Encoded} from './corpus.js'

// What the runner and its worker say to each other.

export type Request = {cmd: 'fuzz'; target: string; runs: number; seed: number} | {cmd: 'replay'; target: string}

export interface WorkerFailure {
  message: string
  input: Encoded
  /** The corpus file that failed, when replaying. */
  file?: string
}

export interface WorkerReply {
  runs: number
  failures: WorkerFailure[]
  unknown?: boolean
}
