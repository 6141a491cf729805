import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {join} from 'node:path'
import {describe, test} from 'node:test'
import {fileURLToPath} from 'node:url'
import {recoverRecording} from '../../../../src/events/recording/index.js'
import {readAll, withTempDir} from './temp-recording.js'

const child = fileURLToPath(new URL('./kill-writer-child.ts', import.meta.url))

/** Starts the writer child and kills it with SIGKILL once it has reported `flushes` flushes; the last count it reported. */
function recordUntilKilled(file: string, flushes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', child, file], {stdio: ['ignore', 'pipe', 'inherit']})
    let reported = 0
    let seen = 0
    let text = ''
    proc.stdout.setEncoding('utf8')
    proc.stdout.on('data', (chunk: string) => {
      text += chunk
      const lines = text.split('\n')
      text = lines.pop()!
      for (const line of lines) {
        reported = Number(line)
        if (++seen === flushes) proc.kill('SIGKILL')
      }
    })
    proc.on('error', reject)
    proc.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(reported)
      else reject(new Error(`the writer exited by itself (code ${code})`))
    })
  })
}

describe('kill -9 of a recording process', () => {
  test('everything flushed before the kill is recovered, and the file is closed', () => withTempDir(async (dir) => {
    const file = join(dir, 'killed.tsrec')
    const flushed = await recordUntilKilled(file, 20)

    const recovered = await recoverRecording(file)
    assert.ok(recovered.events >= flushed, `recovered ${recovered.events} events, ${flushed} were flushed`)
    assert.equal(recovered.sessionEnded, false)
    const {events, error} = await readAll(file)
    assert.equal(error, undefined)
    assert.equal(events.length, recovered.events)
    assert.deepEqual(events.map((e) => e.event.ei), events.map((_, i) => i))
    assert.equal(events[0]!.event.event, 'session.start')
    assert.equal((await recoverRecording(file)).changed, false)
  }))
})
