import {randomUUID} from 'node:crypto'
import {systemClock, type Clock} from '../../../lib/clock.js'
import {safeText} from '../../../lib/safe-text.js'
import type {OnSessionLeave} from '../../../services/models/role.js'
import {LAGGING_PARTY_LIMIT_BYTES, OutputQueue, type Party, type PartyInfo, type PartySpec} from './party.js'
import type {OutputStream, Program, SessionExit, TerminalSize} from './program.js'
import {ScreenTap} from './screen-tap.js'
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
// Joining: a party joining a running interactive session first gets the screen as it is (kept by
// a ScreenTap), then live output; everyone is told of joins and leaves with a `Teleport > ` line
// (notices go to the parties only: taps record joins and leaves as events). Observers and
// moderators do not type into the program: Ctrl-C sends them away, a moderator's `t` terminates
// the session, anything else is dropped and they are told so once.
//
// Moderation: with a gate (the owner's require_session_join), the session is PENDING until the
// parties present satisfy it: the taps are told of the start at once, the program is spawned
// when the gate opens. When it closes again the gate's on_leave says: terminate the session, or
// pause it (PENDING again: the program's output is no longer read and input is dropped) until
// it opens and the session resumes.
//
// The session hangs up (SIGHUP on a pty, EOF/EPIPE on pipes) when its last peer leaves. When the
// program exits, every party is told (its output flushed, then the exit), then the taps' onEnd.

/** Who started the session: what a joining party is authorized against. */
export interface SessionOwner {
  user: string
  /** Role names from the owner's certificate. */
  roles: readonly string[]
  /** The OS login the program runs as. */
  login: string
}

/** Decides whether the parties present let a moderated session run. */
export interface SessionGate {
  evaluate(parties: readonly PartyInfo[]): {satisfied: boolean; onLeave: OnSessionLeave}
}

/** The moderated-session states the tracker reports (TERMINATED is the session's end). */
export type SessionPhase = 'PENDING' | 'RUNNING'

interface Member {
  info: PartyInfo
  spec: PartySpec
  queue: OutputQueue
  detachInput?: () => void
  /** Output held while the party is shown the screen as it is (it joined a running session). */
  held?: {bytes: Buffer; stream: OutputStream}[]
  heldBytes: number
  /** Whether an observer or moderator was told its keystrokes go nowhere. */
  told: boolean
  resolveLeft: () => void
}

type State = 'new' | 'running' | 'ending' | 'ended'

export const NOTICE_PREFIX = 'Teleport > '
/** Ctrl-C: an observer or moderator leaves. */
const INTERRUPT = 0x03
/** `t`: a moderator terminates the session. */
const TERMINATE_KEY = 0x74

export class Session {
  readonly sid: string
  readonly owner: SessionOwner | undefined
  /** Resolves once the session is over: parties closed, taps told. */
  readonly ended: Promise<SessionExit>
  private readonly clock: Clock
  private readonly gate: SessionGate | undefined
  private readonly taps: SessionTap[] = []
  private members: Member[] = []
  private program: Program | undefined
  private state: State = 'new'
  private currentPhase: SessionPhase | undefined
  private terminal = false
  private screen: ScreenTap | undefined
  /** A moderated session's program, until its gate first opens. */
  private deferredSpawn: (() => Program) | undefined
  /** The party the program is paused for. */
  private heldBy: Member | undefined
  private resolveEnded!: (exit: SessionExit) => void

  constructor(options: {sid?: string; clock?: Clock; owner?: SessionOwner; gate?: SessionGate} = {}) {
    this.sid = options.sid ?? randomUUID()
    this.clock = options.clock ?? systemClock
    this.owner = options.owner
    this.gate = options.gate
    this.ended = new Promise((resolve) => (this.resolveEnded = resolve))
  }

  get running(): boolean {
    return this.state === 'running'
  }

  /** PENDING or RUNNING once started; undefined before the start and after the end. */
  get phase(): SessionPhase | undefined {
    return this.state === 'running' ? this.currentPhase : undefined
  }

  /** Whether the session runs on a terminal (only those can be joined). */
  get interactive(): boolean {
    return this.terminal
  }

  /** The parties attached now, in the order they joined. */
  parties(): PartyInfo[] {
    return this.members.map((m) => m.info)
  }

  addTap(tap: SessionTap): void {
    this.taps.push(tap)
  }

  join(spec: PartySpec): Party {
    const info: PartyInfo = {id: randomUUID(), user: spec.user, mode: spec.mode, ...(spec.roles ? {roles: spec.roles} : {})}
    let resolveLeft!: () => void
    const left = new Promise<void>((resolve) => (resolveLeft = resolve))
    const member: Member = {info, spec, queue: new OutputQueue(spec.output), heldBytes: 0, told: false, resolveLeft}
    if (this.state === 'ending' || this.state === 'ended') throw new Error(`session ${this.sid} has ended`)
    const late = this.state === 'running'
    if (late && this.screen) member.held = []
    this.members.push(member)
    const at = this.clock.now()
    for (const tap of this.taps) tap.onPartyJoin?.(info, at)
    if (late) {
      this.attachInput(member)
      this.notify(`User ${safeText(info.user)} joined the session with participant mode: ${info.mode}.`)
      if (member.held) void this.showScreen(member)
      this.reconsider()
    }
    return {
      ...info,
      leave: () => this.leave(member),
      left,
      get droppedBytes() {
        return member.queue.droppedBytes
      },
    }
  }

  /**
   * Starts the session. `spawn` runs after the taps' onStart (for a moderated session, once its
   * gate opens); if it throws, the session ends at once with exit status 255 and the error for
   * the parties' stderr.
   */
  start(start: SessionStart, spawn: () => Program): void {
    if (this.state !== 'new') throw new Error(`session ${this.sid} was already started`)
    this.state = 'running'
    this.terminal = start.terminal !== undefined
    if (this.terminal) {
      this.screen = new ScreenTap()
      this.taps.unshift(this.screen)
    }
    const at = this.clock.now()
    for (const tap of this.taps) tap.onStart?.(start, at)
    for (const member of this.members) this.attachInput(member)
    if (this.gate && !this.gate.evaluate(this.parties()).satisfied) {
      this.deferredSpawn = spawn
      this.setPhase('PENDING', 'waiting for required participants')
      this.notify('Waiting for required participants...')
      return
    }
    this.setPhase('RUNNING')
    this.spawn(spawn)
  }

  resize(size: TerminalSize): void {
    if (this.state !== 'running' || !this.terminal) return
    const at = this.clock.now()
    for (const tap of this.taps) tap.onResize?.(size, at)
    this.program?.resize(size)
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

  /** Ends the program (the node is stopping, a lock, a moderator); a session still pending just ends. */
  terminate(): void {
    if (this.state !== 'running') return
    if (!this.program) return void this.finish({code: null, signal: 'HUP'})
    this.program.resume() // a paused program must be read to its end
    try {
      this.program.kill('SIGHUP')
    } catch {
      // already gone
    }
    this.program.hangUp()
  }

  /** A `Teleport > ` line to every party (not program output: taps do not see it). */
  notify(text: string): void {
    const bytes = this.noticeBytes(text)
    for (const member of this.members) this.send(member, bytes.bytes, bytes.stream, Infinity)
  }

  private noticeBytes(text: string): {bytes: Buffer; stream: OutputStream} {
    // A terminal is in raw mode: the line end is ours. Without one, notices stay off stdout's data.
    return this.terminal ? {bytes: Buffer.from(`${NOTICE_PREFIX}${text}\r\n`), stream: 'stdout'} : {bytes: Buffer.from(`${NOTICE_PREFIX}${text}\n`), stream: 'stderr'}
  }

  private tell(member: Member, text: string): void {
    const notice = this.noticeBytes(text)
    this.send(member, notice.bytes, notice.stream, Infinity)
  }

  private spawn(spawn: () => Program): void {
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
  }

  private setPhase(phase: SessionPhase, reason?: string): void {
    if (this.currentPhase === phase) return
    this.currentPhase = phase
    const at = this.clock.now()
    for (const tap of this.taps) tap.onStateChange?.(phase, at, reason)
  }

  /** A moderated session after a party came or went: start, resume, pause or terminate it. */
  private reconsider(): void {
    if (!this.gate || this.state !== 'running') return
    const {satisfied, onLeave} = this.gate.evaluate(this.parties())
    if (this.currentPhase === 'PENDING' && satisfied) {
      this.setPhase('RUNNING')
      const spawn = this.deferredSpawn
      this.deferredSpawn = undefined
      if (spawn) return this.spawn(spawn)
      this.notify('Session resumed.')
      if (!this.heldBy) this.program?.resume()
    } else if (this.currentPhase === 'RUNNING' && !satisfied) {
      if (onLeave === 'terminate') {
        this.notify('Session terminated: the required participants left.')
        return this.terminate()
      }
      this.setPhase('PENDING', 'waiting for required participants')
      this.notify('Session paused: waiting for required participants...')
      this.program?.pause()
    }
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
      if (member !== driver || member.held) {
        this.send(member, bytes, stream, LAGGING_PARTY_LIMIT_BYTES)
      } else if (!member.queue.offer(bytes, stream, Infinity) && !this.heldBy) {
        this.heldBy = member
        this.program?.pause()
        member.queue.onceDrained(() => this.release(member))
      }
    }
  }

  /** Output for a party that does not drive the flow: held while it is shown the screen. */
  private send(member: Member, bytes: Buffer, stream: OutputStream, limit: number): void {
    if (!member.held) return void member.queue.offer(bytes, stream, limit)
    if (member.heldBytes + bytes.length > limit) member.queue.droppedBytes += bytes.length
    else {
      member.held.push({bytes, stream})
      member.heldBytes += bytes.length
    }
  }

  private async showScreen(member: Member): Promise<void> {
    const screen = (await this.screen?.snapshot()) ?? ''
    const held = member.held
    member.held = undefined
    if (!held || !this.members.includes(member)) return
    // Home and clear first: the joiner's terminal shows whatever it showed before.
    if (screen) member.queue.offer(Buffer.from(`\x1b[H\x1b[2J${screen}`), 'stdout', Infinity)
    for (const chunk of held) member.queue.offer(chunk.bytes, chunk.stream, Infinity)
  }

  private release(member: Member): void {
    if (this.heldBy !== member) return
    this.heldBy = undefined
    if (this.currentPhase === 'RUNNING') this.program?.resume()
  }

  private attachInput(member: Member): void {
    const {input, mode} = member.spec
    if (!input || member.detachInput) return
    const onData =
      mode === 'peer'
        ? (bytes: Buffer) => {
            const program = this.program
            // No input reaches a program before its moderated session starts, nor while paused.
            if (this.state !== 'running' || !program || this.currentPhase !== 'RUNNING' || program.write(bytes)) return
            input.pause()
            program.onceWritable(() => input.resume())
          }
        : (bytes: Buffer) => this.command(member, bytes)
    const onEnd = () => {
      if (mode === 'peer' && this.state === 'running') this.program?.endInput()
    }
    input.on('data', onData)
    input.on('end', onEnd)
    member.detachInput = () => {
      input.removeListener('data', onData)
      input.removeListener('end', onEnd)
    }
  }

  /** An observer's or moderator's keystrokes: Ctrl-C leaves, a moderator's `t` terminates. */
  private command(member: Member, bytes: Buffer): void {
    if (this.state !== 'running') return
    if (bytes.includes(INTERRUPT)) {
      this.leave(member)
      void member.spec.output.end({code: 0}).catch(() => {})
      return
    }
    if (member.info.mode === 'moderator' && bytes.includes(TERMINATE_KEY)) {
      this.notify('Session terminated by a moderator.')
      return this.terminate()
    }
    if (member.told) return
    member.told = true
    this.tell(
      member,
      member.info.mode === 'moderator'
        ? 'You are a moderator: your keystrokes do not reach the session. Press t to terminate the session, Ctrl-C to leave.'
        : 'You are an observer: your keystrokes do not reach the session. Press Ctrl-C to leave.',
    )
  }

  private leave(member: Member): void {
    if (!this.members.includes(member)) return
    this.members = this.members.filter((m) => m !== member)
    member.detachInput?.()
    member.held = undefined
    member.queue.close()
    member.resolveLeft()
    this.release(member)
    if (this.state !== 'running' && this.state !== 'new') return
    const at = this.clock.now()
    for (const tap of this.taps) tap.onPartyLeave?.(member.info, at)
    if (this.state !== 'running') return
    this.notify(`User ${safeText(member.info.user)} left the session.`)
    if (!this.driver()) {
      if (this.program) this.program.hangUp()
      else void this.finish({code: null, signal: 'HUP'})
      return
    }
    this.reconsider()
  }

  private async finish(exit: SessionExit): Promise<void> {
    if (this.state === 'ending' || this.state === 'ended') return
    this.state = 'ending'
    this.heldBy = undefined
    await Promise.all(
      this.members.map(async (member) => {
        member.detachInput?.()
        // A party still waiting for its screen still gets what was meant for it (the end's notices).
        const held = member.held
        member.held = undefined
        for (const chunk of held ?? []) member.queue.offer(chunk.bytes, chunk.stream, Infinity)
        await member.queue.whenDrained()
        if (this.members.includes(member)) await member.spec.output.end(exit).catch(() => {}) // a broken transport only loses its own end
      }),
    )
    this.state = 'ended'
    for (const member of this.members) member.resolveLeft()
    this.members = []
    const at = this.clock.now()
    for (const tap of this.taps) tap.onEnd?.(exit, at)
    this.resolveEnded(exit)
  }
}
