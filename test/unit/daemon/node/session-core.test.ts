import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {PassThrough} from 'node:stream'
import {describe, test} from 'node:test'
import pty from 'node-pty'
import {LAGGING_PARTY_LIMIT_BYTES, type PartyOutput} from '../../../../src/daemon/node/session/party.js'
import {pipedProgram, ptyProgram, type OutputStream, type Program, type SessionExit} from '../../../../src/daemon/node/session/program.js'
import {SessionRegistry} from '../../../../src/daemon/node/session/registry.js'
import {Session, type SessionGate} from '../../../../src/daemon/node/session/session.js'
import type {SessionTap} from '../../../../src/daemon/node/session/tap.js'

// The session core with a memory shell: parties whose output is kept in memory, real programs
// (node-pty and plain child processes). Nothing waits for time: every step waits on an event.

/** A party's output kept in memory; `blocked` makes it say "full" until unblock(). */
class MemoryOutput implements PartyOutput {
  readonly chunks: {bytes: Buffer; stream: OutputStream}[] = []
  exit: SessionExit | undefined
  writesWhileFull = 0
  readonly ended: Promise<SessionExit>
  private full = false
  private drainers: (() => void)[] = []
  private watchers: (() => void)[] = []
  private resolveEnded!: (exit: SessionExit) => void

  constructor(public blocked = false) {
    this.ended = new Promise((resolve) => (this.resolveEnded = resolve))
  }

  text(stream?: OutputStream): string {
    return Buffer.concat(this.chunks.filter((c) => !stream || c.stream === stream).map((c) => c.bytes)).toString()
  }

  bytes(): number {
    return this.chunks.reduce((n, c) => n + c.bytes.length, 0)
  }

  write(bytes: Buffer, stream: OutputStream): boolean {
    if (this.full) this.writesWhileFull++
    this.chunks.push({bytes, stream})
    for (const watch of this.watchers.splice(0)) watch()
    this.full = this.blocked
    return !this.blocked
  }

  onceDrained(callback: () => void): void {
    this.drainers.push(callback)
  }

  /** Takes what was written: the session may write again. */
  drain(): void {
    this.full = false
    for (const drained of this.drainers.splice(0)) drained()
  }

  unblock(): void {
    this.blocked = false
    this.drain()
  }

  end(exit: SessionExit): Promise<void> {
    this.exit = exit
    this.resolveEnded(exit)
    return Promise.resolve()
  }

  async waitFor(re: RegExp): Promise<void> {
    while (!re.test(this.text())) await new Promise<void>((resolve) => this.watchers.push(resolve))
  }
}

/** A tap that writes down everything, in order. */
function recordingTap(): SessionTap & {log: string[]; output: Buffer[]} {
  const log: string[] = []
  const output: Buffer[] = []
  return {
    log,
    output,
    onStart: (start) => log.push(`start ${start.command ?? 'shell'}${start.terminal ? ` ${start.terminal.cols}x${start.terminal.rows}` : ''}`),
    onOutput: (bytes) => {
      output.push(bytes)
      log.push(`output ${JSON.stringify(bytes.toString())}`)
    },
    onResize: (size) => log.push(`resize ${size.cols}x${size.rows}`),
    onPartyJoin: (party) => log.push(`join ${party.user} ${party.mode}`),
    onPartyLeave: (party) => log.push(`leave ${party.user} ${party.mode}`),
    onStateChange: (state) => log.push(`state ${state}`),
    onEnd: (exit) => log.push(`end ${exit.code}${exit.signal ? ` ${exit.signal}` : ''}`),
  }
}

const env = {PATH: '/usr/bin:/bin', TERM: 'xterm', LANG: 'C'}

function onPty(script: string, size = {cols: 80, rows: 24}): () => Program {
  return () => ptyProgram(pty.spawn('/bin/sh', ['-c', script], {name: 'xterm', ...size, env, encoding: null}))
}

function piped(script: string): () => Program {
  return () => pipedProgram(spawn('/bin/sh', ['-c', script], {env, stdio: ['pipe', 'pipe', 'pipe']}))
}

/** One turn of the event loop: lets streams emit what was written to them. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve))

describe('session core', () => {
  test('two parties see the same output; only the peer\'s input reaches the program', async () => {
    const session = new Session()
    const peerIn = new PassThrough()
    const watcherIn = new PassThrough()
    const peer = new MemoryOutput()
    const watcher = new MemoryOutput()
    session.join({user: 'alice', mode: 'peer', output: peer, input: peerIn})
    session.join({user: 'bob', mode: 'observer', output: watcher, input: watcherIn})
    session.start({command: 'read'}, onPty('stty -echo; echo ready; read line; echo "got:$line"'))
    await peer.waitFor(/ready/)
    watcherIn.write('from-observer\n')
    await turn()
    peerIn.write('from-peer\n')
    const exit = await session.ended
    assert.deepEqual(exit, {code: 0})
    assert.match(peer.text(), /got:from-peer/)
    assert.doesNotMatch(peer.text(), /from-observer/)
    assert.equal(watcher.text('stdout'), peer.text())
    // Told once why (on stderr: this session has no terminal), the peer is not.
    assert.match(watcher.text('stderr'), /^Teleport > You are an observer: your keystrokes do not reach the session\. Press Ctrl-C to leave\.\n$/)
    assert.deepEqual(peer.exit, {code: 0})
    assert.deepEqual(watcher.exit, {code: 0})
  })

  test('the tap sees every byte and every resize, in order', async () => {
    const session = new Session()
    const tap = recordingTap()
    session.addTap(tap)
    const input = new PassThrough()
    const peer = new MemoryOutput()
    session.join({user: 'alice', mode: 'peer', output: peer, input})
    session.start({command: 'stty', terminal: {cols: 80, rows: 24}}, onPty('stty -echo; stty size; read line; stty size'))
    await peer.waitFor(/24 80/)
    session.resize({cols: 132, rows: 50})
    input.write('\n')
    await session.ended
    assert.equal(Buffer.concat(tap.output).toString(), peer.text())
    assert.match(peer.text(), /24 80[\s\S]*50 132/)
    const resizeAt = tap.log.indexOf('resize 132x50')
    const firstSize = tap.log.findIndex((l) => l.includes('24 80'))
    const secondSize = tap.log.findIndex((l) => l.includes('50 132'))
    assert.ok(firstSize < resizeAt && resizeAt < secondSize, tap.log.join('\n'))
    assert.deepEqual(tap.log.slice(0, 2), ['join alice peer', 'start stty 80x24'])
    assert.equal(tap.log.at(-1), 'end 0')
  })

  test('exec: stdout and stderr apart, the exit status, then every party is closed and the taps told', async () => {
    const session = new Session()
    const tap = recordingTap()
    session.addTap(tap)
    const peer = new MemoryOutput()
    const watcher = new MemoryOutput()
    session.join({user: 'alice', mode: 'peer', output: peer, input: new PassThrough()})
    session.join({user: 'bob', mode: 'observer', output: watcher})
    session.start({command: 'exit 3'}, piped('echo out; echo err >&2; exit 3'))
    const exit = await session.ended
    assert.deepEqual(exit, {code: 3})
    assert.equal(peer.text('stdout'), 'out\n')
    assert.equal(peer.text('stderr'), 'err\n')
    assert.equal(watcher.text('stderr'), 'err\n')
    assert.deepEqual(peer.exit, {code: 3})
    assert.deepEqual(watcher.exit, {code: 3})
    assert.equal(tap.log.at(-1), 'end 3')
    assert.throws(() => session.join({user: 'carol', mode: 'observer', output: new MemoryOutput()}), /has ended/)
  })

  test('stdin EOF from the peer is EOF for a piped program; signals reach it', async () => {
    const cat = new Session()
    const input = new PassThrough()
    const out = new MemoryOutput()
    cat.join({user: 'alice', mode: 'peer', output: out, input})
    cat.start({command: 'cat'}, piped('cat'))
    input.end('through cat\n')
    assert.deepEqual(await cat.ended, {code: 0})
    assert.equal(out.text(), 'through cat\n')

    const sleeper = new Session()
    const sleeperOut = new MemoryOutput()
    sleeper.join({user: 'alice', mode: 'peer', output: sleeperOut})
    sleeper.start({command: 'sleep'}, piped('echo ready; exec sleep 60'))
    await sleeperOut.waitFor(/ready/)
    assert.equal(sleeper.signal('SIGTERM'), true)
    assert.deepEqual(await sleeper.ended, {code: null, signal: 'TERM'})
    assert.equal(sleeper.signal('SIGTERM'), false)
  })

  test('a party that leaves gets nothing more; when the last peer leaves the terminal hangs up', async () => {
    const session = new Session()
    const tap = recordingTap()
    session.addTap(tap)
    const input = new PassThrough()
    const peer = new MemoryOutput()
    const watcher = new MemoryOutput()
    const peerParty = session.join({user: 'alice', mode: 'peer', output: peer, input})
    const watcherParty = session.join({user: 'bob', mode: 'observer', output: watcher})
    session.start({}, onPty('stty -echo; echo ready; while read line; do echo "line:$line"; done'))
    await peer.waitFor(/ready/)
    await watcher.waitFor(/ready/)
    watcherParty.leave()
    assert.deepEqual(session.parties().map((p) => p.user), ['alice'])
    input.write('after\n')
    await peer.waitFor(/line:after/)
    assert.doesNotMatch(watcher.text(), /after/)
    peerParty.leave()
    const exit = await session.ended
    assert.equal(exit.signal, 'HUP')
    assert.equal(peer.exit, undefined, 'a party that left is not told the end')
    assert.equal(watcher.exit, undefined)
    assert.deepEqual(
      tap.log.filter((l) => !l.startsWith('output')),
      ['join alice peer', 'join bob observer', 'start shell', 'state RUNNING', 'leave bob observer', 'leave alice peer', 'end null HUP'],
    )
  })

  test('flow: the peer\'s output paces the program; a lagging observer drops output beyond its bound', async () => {
    const total = 2 * LAGGING_PARTY_LIMIT_BYTES
    let pauses = 0
    let resumes = 0
    const session = new Session()
    const tap = recordingTap()
    session.addTap(tap)
    const peer = new MemoryOutput(true)
    const watcher = new MemoryOutput(true)
    // The peer takes each chunk a turn later (a slow but live client); the observer never does.
    peer.onceDrained = (callback) => {
      MemoryOutput.prototype.onceDrained.call(peer, callback)
      setImmediate(() => peer.drain())
    }
    session.join({user: 'alice', mode: 'peer', output: peer})
    const watcherParty = session.join({user: 'bob', mode: 'observer', output: watcher})
    session.start({command: 'head'}, () => {
      const program = piped(`head -c ${total} /dev/zero`)()
      return {
        ...program,
        pause: () => (pauses++, program.pause()),
        resume: () => (resumes++, program.resume()),
      }
    })
    await peer.ended
    assert.equal(peer.bytes(), total, 'the peer gets every byte')
    assert.equal(peer.writesWhileFull, 0, 'nothing is pushed at a full output')
    // the program may exit while paused for the last chunk: nothing to resume then
    assert.ok(pauses > 0 && pauses - resumes <= 1, `paused ${pauses}, resumed ${resumes}`)
    assert.equal(watcher.writesWhileFull, 0)
    assert.ok(watcherParty.droppedBytes > 0)
    // The observer's pending output ends once it takes it (or leaves).
    watcher.unblock()
    assert.deepEqual(await session.ended, {code: 0})
    assert.ok(watcher.bytes() <= total - watcherParty.droppedBytes && watcher.bytes() <= LAGGING_PARTY_LIMIT_BYTES + 65536 * 2, String(watcher.bytes()))
    assert.equal(watcher.bytes() + watcherParty.droppedBytes, total)
    assert.equal(Buffer.concat(tap.output).length, total, 'the tap sees every byte, dropped or not')
  })

  test('a program that cannot start ends the session at once with status 255 and the reason', async () => {
    const session = new Session()
    const tap = recordingTap()
    session.addTap(tap)
    const peer = new MemoryOutput()
    session.join({user: 'alice', mode: 'peer', output: peer})
    session.start({command: 'nothing'}, () => {
      throw new Error('no such program')
    })
    assert.deepEqual(await session.ended, {code: 255, startError: 'no such program', spawnFailed: true})
    assert.equal(peer.exit?.startError, 'no such program')
    assert.deepEqual(tap.log, ['join alice peer', 'start nothing', 'state RUNNING', 'end 255'])
  })

  test('the registry holds sessions by id until they end; terminate hangs them up', async () => {
    const registry = new SessionRegistry()
    const session = new Session({sid: '11111111-1111-4111-8111-111111111111'})
    const out = new MemoryOutput()
    session.join({user: 'alice', mode: 'peer', output: out, input: new PassThrough()})
    registry.add(session)
    assert.throws(() => registry.add(session), /already registered/)
    session.start({}, onPty('echo ready; exec sleep 60'))
    assert.equal(registry.get(session.sid), session)
    await out.waitFor(/ready/)
    for (const running of registry) running.terminate()
    assert.equal((await session.ended).signal, 'HUP')
    assert.equal(registry.size, 0)
    assert.equal(registry.get(session.sid), undefined)
  })
})

describe('joining a running session', () => {
  const terminal = {cols: 80, rows: 24}
  /** A gate that opens while a moderator is present; on_leave as given. */
  const needsModerator = (onLeave: 'terminate' | 'pause'): SessionGate => ({
    evaluate: (parties) => ({satisfied: parties.some((p) => p.mode === 'moderator'), onLeave}),
  })

  test('a late party gets the screen first, then the join line, then live output; leaving is told to the others', async () => {
    const session = new Session()
    const tap = recordingTap()
    session.addTap(tap)
    const input = new PassThrough()
    const owner = new MemoryOutput()
    session.join({user: 'alice', mode: 'peer', output: owner, input})
    session.start({terminal}, onPty('stty -echo; printf "\\033[2;5HON-SCREEN"; read line; echo "after:$line"; read line2'))
    await owner.waitFor(/ON-SCREEN/)
    const late = new MemoryOutput()
    const party = session.join({user: 'bob', mode: 'observer', output: late, input: new PassThrough()})
    await late.waitFor(/joined/)
    assert.match(late.text(), /^\x1b\[H\x1b\[2J\r\n\x1b\[4CON-SCREENTeleport > User bob joined the session with participant mode: observer\.\r\n$/)
    assert.match(owner.text(), /Teleport > User bob joined the session with participant mode: observer\.\r\n$/)
    input.write('live\n')
    await late.waitFor(/after:live/)
    party.leave()
    await party.left
    await owner.waitFor(/User bob left the session\./)
    assert.doesNotMatch(late.text(), /left the session/, 'the party that left hears nothing more')
    input.write('end\n')
    await session.ended
    assert.ok(tap.log.includes('join bob observer') && tap.log.includes('leave bob observer'))
    assert.doesNotMatch(Buffer.concat(tap.output).toString(), /Teleport >/, 'notices are not program output')
  })

  test('observers and moderators: told once, Ctrl-C leaves with status 0, a moderator\'s t terminates', async () => {
    const session = new Session()
    const owner = new MemoryOutput()
    const ownerIn = new PassThrough()
    session.join({user: 'alice', mode: 'peer', output: owner, input: ownerIn})
    session.start({terminal}, onPty('stty -echo; echo ready; exec cat'))
    await owner.waitFor(/ready/)
    const watcherIn = new PassThrough()
    const watcher = new MemoryOutput()
    session.join({user: 'bob', mode: 'observer', output: watcher, input: watcherIn})
    watcherIn.write('x')
    watcherIn.write('t') // an observer's t is just a keystroke
    await watcher.waitFor(/You are an observer/)
    await turn()
    watcherIn.write('\x03')
    assert.deepEqual(await watcher.ended, {code: 0})
    assert.equal(watcher.text().split('You are an observer').length, 2, 'told once')
    const modIn = new PassThrough()
    const moderator = new MemoryOutput()
    session.join({user: 'carol', mode: 'moderator', output: moderator, input: modIn})
    modIn.write('t')
    const exit = await session.ended
    assert.equal(exit.signal, 'HUP')
    assert.match(owner.text(), /Teleport > Session terminated by a moderator\.\r\n/)
    assert.match(moderator.text(), /Teleport > Session terminated by a moderator\./)
    assert.doesNotMatch(owner.text(), /xt|You are/, 'nothing the observer typed reached the program')
  })

  test('moderated: PENDING without the program until the gate opens, paused and resumed per on_leave pause', async () => {
    const session = new Session({gate: needsModerator('pause')})
    const tap = recordingTap()
    session.addTap(tap)
    const ownerIn = new PassThrough()
    const owner = new MemoryOutput()
    session.join({user: 'alice', mode: 'peer', output: owner, input: ownerIn})
    let spawned = 0
    session.start({terminal}, () => (spawned++, onPty('stty -echo; while read line; do echo "got:$line"; done')()))
    assert.equal(session.phase, 'PENDING')
    assert.equal(spawned, 0)
    assert.match(owner.text(), /^Teleport > Waiting for required participants\.\.\.\r\n$/)
    ownerIn.write('early\n')
    await turn()
    const moderator = session.join({user: 'carol', mode: 'moderator', output: new MemoryOutput(), input: new PassThrough()})
    assert.equal(session.phase, 'RUNNING')
    assert.equal(spawned, 1)
    ownerIn.write('one\n')
    await owner.waitFor(/got:one/)
    moderator.leave()
    assert.equal(session.phase, 'PENDING')
    assert.match(owner.text(), /Teleport > Session paused: waiting for required participants\.\.\.\r\n$/)
    ownerIn.write('dropped\n')
    await turn()
    session.join({user: 'carol', mode: 'moderator', output: new MemoryOutput(), input: new PassThrough()})
    assert.match(owner.text(), /Session resumed\.\r\n$/)
    ownerIn.write('two\n')
    await owner.waitFor(/got:two/)
    assert.doesNotMatch(owner.text(), /got:early|got:dropped/, 'no input reaches the program while pending or paused')
    session.terminate()
    await session.ended
    assert.deepEqual(tap.log.filter((l) => l.startsWith('state') || l.startsWith('start')), ['start shell 80x24', 'state PENDING', 'state RUNNING', 'state PENDING', 'state RUNNING'])
  })

  test('moderated with on_leave terminate: the session ends when the moderator leaves; a pending session whose owner leaves just ends', async () => {
    const session = new Session({gate: needsModerator('terminate')})
    const owner = new MemoryOutput()
    session.join({user: 'alice', mode: 'peer', output: owner, input: new PassThrough()})
    session.start({terminal}, onPty('echo ready; exec sleep 60'))
    const moderator = session.join({user: 'carol', mode: 'moderator', output: new MemoryOutput(), input: new PassThrough()})
    await owner.waitFor(/ready/)
    moderator.leave()
    assert.equal((await session.ended).signal, 'HUP')
    assert.match(owner.text(), /Teleport > Session terminated: the required participants left\./)

    const waiting = new Session({gate: needsModerator('terminate')})
    const ownerParty = waiting.join({user: 'alice', mode: 'peer', output: new MemoryOutput()})
    let spawned = false
    waiting.start({terminal}, () => ((spawned = true), onPty('true')()))
    ownerParty.leave()
    assert.deepEqual(await waiting.ended, {code: null, signal: 'HUP'})
    assert.equal(spawned, false)
  })
})
