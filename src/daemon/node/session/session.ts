import {randomUUID} from 'node:crypto'
import {systemClock, type Clock} from '../../../lib/clock.js'
import {LAGGING_PARTY_LIMIT_BYTES, OutputQueue, type Party, type PartyInfo, type PartySpec} from './party.js'
import type {OutputStream, Program, SessionExit, TerminalSize} from './program.js'
import type {SessionStart, SessionTap} from './tap.js'

// One session on the node, whatever carries it: the program (on a pty or on pipes), the parties
// attached to it, and the taps that see everything. Shells (the SSH channel today) only turn
// their transport into a party and their requests into calls here.
//
// Flow control: the first peer (the one that started the session) drives it. When its output is
// full the program is paused until it drains, as a single SSH channel paused it before. Every
// other party gets output as fast as it takes it; while it lags, up to LAGGING_PARTY_LIMIT_BYTES
// wait for it and chunks beyond that are dropped for that party alone. So no party makes the
// node buffer without bound, and a slow watcher never slows the session down.
//
// The session hangs up (SIGHUP on a pty, EOF/EPIPE on pipes) when its last peer leaves. When the
// program exits, every party is told (its output flushed, then the exit), then the taps' onEnd.

interface Member {
  info: PartyInfo
  spec: PartySpec
  queue: OutputQueue
  detachInput?: () => void
}

type State = 'new' | 'running' | 'ending' | 'ended'

export class Session {
  readonly sid: string
  /** Resolves once the session is over: parties closed, taps told. */
  readonly ended: Promise<SessionExit>
  private readonly clock: Clock
  private readonly taps: SessionTap[] = []
  private members: Member[] = []
  private program: Program | undefined
  private state: State = 'new'
  /** The party the program is paused for. */
  private heldBy: Member | undefined
  private resolveEnded!: (exit: SessionExit) => void

  constructor(options: {sid?: string; clock?: Clock} = {}) {
    this.sid = options.sid ?? randomUUID()
    this.clock = options.clock ?? systemClock
    this.ended = new Promise((resolve) => (this.resolveEnded = resolve))
  }

  get running(): boolean {
    return this.state === 'running'
  }

  /** The parties attached now, in the order they joined. */
  parties(): PartyInfo[] {
    return this.members.map((m) => m.info)
  }

  addTap(tap: SessionTap): void {
    this.taps.push(tap)
  }

  join(spec: PartySpec): Party {
    const info: PartyInfo = {id: randomUUID(), user: spec.user, mode: spec.mode}
    const member: Member = {info, spec, queue: new OutputQueue(spec.output)}
    if (this.state === 'ending' || this.state === 'ended') throw new Error(`session ${this.sid} has ended`)
    this.members.push(member)
    const at = this.clock.now()
    for (const tap of this.taps) tap.onPartyJoin?.(info, at)
    if (this.state === 'running') this.attachInput(member)
    return {
      ...info,
      leave: () => this.leave(member),
      get droppedBytes() {
        return member.queue.droppedBytes
      },
    }
  }

  /**
   * Starts the program. `spawn` runs after the taps' onStart; if it throws, the session ends at
   * once with exit status 255 and the error for the parties' stderr.
   */
  start(start: SessionStart, spawn: () => Program): void {
    if (this.state !== 'new') throw new Error(`session ${this.sid} was already started`)
    this.state = 'running'
    const at = this.clock.now()
    for (const tap of this.taps) tap.onStart?.(start, at)
    let program: Program
    try {
      program = spawn()
    } catch (err) {
      void this.finish({code: 255, startError: (err as Error).message, spawnFailed: true})
      return
    }
    this.program = program
    program.onOutput((bytes, stream) => this.deliver(bytes, stream))
    program.onExit((exit) => void this.finish(exit))
    for (const member of this.members) this.attachInput(member)
  }

  resize(size: TerminalSize): void {
    if (this.state !== 'running' || !this.program?.terminal) return
    const at = this.clock.now()
    for (const tap of this.taps) tap.onResize?.(size, at)
    this.program.resize(size)
  }

  /** Sends a signal to the program; false when it is not running or refused. */
  signal(name: string): boolean {
    if (this.state !== 'running' || !this.program) return false
    try {
      this.program.kill(name)
      return true
    } catch {
      return false
    }
  }

  /** Ends the program (the node is stopping, or a lock ended the connection). */
  terminate(): void {
    if (this.state !== 'running' || !this.program) return
    try {
      this.program.kill('SIGHUP')
    } catch {
      // already gone
    }
    this.program.hangUp()
  }

  /** The first peer still attached: its output paces the program. */
  private driver(): Member | undefined {
    return this.members.find((m) => m.info.mode === 'peer')
  }

  private deliver(bytes: Buffer, stream: OutputStream): void {
    const at = this.clock.now()
    for (const tap of this.taps) tap.onOutput?.(bytes, at, stream)
    const driver = this.driver()
    for (const member of this.members) {
      if (member !== driver) {
        member.queue.offer(bytes, stream, LAGGING_PARTY_LIMIT_BYTES)
      } else if (!member.queue.offer(bytes, stream, Infinity) && !this.heldBy) {
        this.heldBy = member
        this.program?.pause()
        member.queue.onceDrained(() => this.release(member))
      }
    }
  }

  private release(member: Member): void {
    if (this.heldBy !== member) return
    this.heldBy = undefined
    this.program?.resume()
  }

  private attachInput(member: Member): void {
    const {input, mode} = member.spec
    if (!input || member.detachInput) return
    const program = this.program!
    const onData =
      mode === 'observer'
        ? () => {} // read so the transport keeps flowing, and dropped
        : (bytes: Buffer) => {
            if (this.state !== 'running' || program.write(bytes)) return
            input.pause()
            program.onceWritable(() => input.resume())
          }
    const onEnd = () => {
      if (mode === 'peer' && this.state === 'running') program.endInput()
    }
    input.on('data', onData)
    input.on('end', onEnd)
    member.detachInput = () => {
      input.removeListener('data', onData)
      input.removeListener('end', onEnd)
    }
  }

  private leave(member: Member): void {
    if (!this.members.includes(member)) return
    this.members = this.members.filter((m) => m !== member)
    member.detachInput?.()
    member.queue.close()
    this.release(member)
    if (this.state !== 'running' && this.state !== 'new') return
    const at = this.clock.now()
    for (const tap of this.taps) tap.onPartyLeave?.(member.info, at)
    if (this.state === 'running' && !this.driver()) this.program?.hangUp()
  }

  private async finish(exit: SessionExit): Promise<void> {
    if (this.state === 'ending' || this.state === 'ended') return
    this.state = 'ending'
    this.heldBy = undefined
    await Promise.all(
      this.members.map(async (member) => {
        member.detachInput?.()
        await member.queue.whenDrained()
        if (this.members.includes(member)) await member.spec.output.end(exit).catch(() => {}) // a broken transport only loses its own end
      }),
    )
    this.state = 'ended'
    this.members = []
    const at = this.clock.now()
    for (const tap of this.taps) tap.onEnd?.(exit, at)
    this.resolveEnded(exit)
  }
}
