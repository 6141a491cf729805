import assert from 'node:assert/strict'
import {readdir, readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {describe, test} from 'node:test'
import {writeFileFromChunks} from '../../../../src/client/recordings/file-output.js'
import {AlreadyExistsError} from '../../../../src/lib/errors.js'
import {withTempDir} from '../../events/recording/temp-recording.js'

describe('writing a download or export to a file', () => {
  test('a file that appears while writing is not replaced (without --force), and the temp file is gone', () => withTempDir(async (dir) => {
    const out = join(dir, 'race.tsrec')
    async function* chunks() {
      yield Buffer.from('ours')
      await writeFile(out, 'theirs')
    }
    await assert.rejects(writeFileFromChunks(out, chunks()), AlreadyExistsError)
    assert.equal(await readFile(out, 'utf8'), 'theirs')
    assert.deepEqual(await readdir(dir), ['race.tsrec'])
  }))

  test('keepPartial keeps what was written before the failure, then the failure is reported', () => withTempDir(async (dir) => {
    const out = join(dir, 'partial.cast')
    const damage = new Error('damaged')
    async function* chunks() {
      yield 'line 1\n'
      throw damage
    }
    await assert.rejects(writeFileFromChunks(out, chunks(), {keepPartial: (err) => err === damage}), (err) => err === damage)
    assert.equal(await readFile(out, 'utf8'), 'line 1\n')
    assert.deepEqual(await readdir(dir), ['partial.cast'])
  }))

  test('a directory that does not exist is one clear error', () => withTempDir(async (dir) => {
    await assert.rejects(writeFileFromChunks(join(dir, 'no', 'such', 'x.cast'), (async function* () {})()), /cannot create .*x\.cast: the directory .* does not exist/)
  }))
})
