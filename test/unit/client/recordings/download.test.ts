import assert from 'node:assert/strict'
import {readdir, readFile, stat, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {Readable} from 'node:stream'
import {describe, test} from 'node:test'
import {downloadRecording} from '../../../../src/client/recordings/download.js'
import {AlreadyExistsError, NotFoundError, UsageError} from '../../../../src/lib/errors.js'
import {withTempDir} from '../../events/recording/temp-recording.js'

// tsh recordings download: streamed into a temp file, renamed into place (0600); an existing
// file is kept unless --force; a failed download leaves nothing behind.

const SID = '5c5b6f4e-2c4c-4c1a-9f7e-0d3b4f6f8a11'

function api(parts: (Buffer | Error)[]) {
  const calls: string[] = []
  return {
    calls,
    async openRecording(sid: string) {
      calls.push(sid)
      return Readable.from((function* () {
        for (const part of parts) {
          if (part instanceof Error) throw part
          yield part
        }
      })())
    },
  }
}

describe('tsh recordings download', () => {
  test('writes the bytes to <id>.tsrec by default, mode 0600, no temp file left', () => withTempDir(async (dir) => {
    const cwd = process.cwd()
    process.chdir(dir)
    try {
      const bytes = [Buffer.from('TSREC\0 first'), Buffer.alloc(300_000, 7)]
      const result = await downloadRecording(api(bytes), SID)
      assert.deepEqual(result, {file: `${SID}.tsrec`, bytes: 300_000 + 12})
      assert.deepEqual(await readFile(join(dir, `${SID}.tsrec`)), Buffer.concat(bytes))
      assert.equal((await stat(join(dir, `${SID}.tsrec`))).mode & 0o777, 0o600)
      assert.deepEqual(await readdir(dir), [`${SID}.tsrec`])
    } finally {
      process.chdir(cwd)
    }
  }))

  test('an existing file is refused before anything is asked of auth; --force replaces it', () => withTempDir(async (dir) => {
    const out = join(dir, 'mine.tsrec')
    await writeFile(out, 'keep me')
    const source = api([Buffer.from('new')])
    await assert.rejects(downloadRecording(source, SID, {output: out}), (err: Error) => err instanceof AlreadyExistsError && err.message === `${out} already exists` && /--force/.test(err.hint!))
    assert.deepEqual(source.calls, [])
    assert.equal(await readFile(out, 'utf8'), 'keep me')
    await downloadRecording(source, SID, {output: out, force: true})
    assert.equal(await readFile(out, 'utf8'), 'new')
  }))

  test('a download that fails half-way (or is not found) leaves no file', () => withTempDir(async (dir) => {
    const out = join(dir, 'x.tsrec')
    await assert.rejects(downloadRecording(api([Buffer.from('part'), new Error('connection lost')]), SID, {output: out}), /connection lost/)
    const missing = {openRecording: async () => Promise.reject(new NotFoundError(`recording ${SID} not found`))}
    await assert.rejects(downloadRecording(missing, SID, {output: out}), NotFoundError)
    assert.deepEqual(await readdir(dir), [])
  }))

  test('an id that is not a session id is refused (it would name the file)', async () => {
    await assert.rejects(downloadRecording(api([]), '../../etc/passwd'), (err: Error) => err instanceof UsageError && /is not a session id/.test(err.message))
  })
})
