import {describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {randomUUID} from 'node:crypto'
import {mkdtempSync, readdirSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {Readable} from 'node:stream'
import {FileRecordingStore, recordingsDir} from '../../../../src/events/recording-store/index.js'
import {recordingStoreConformance} from './conformance.js'

function tempDataDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'recstore-'))
}

describe('FileRecordingStore', () => {
  recordingStoreConformance(() => {
    const dataDir = tempDataDir()
    const dir = recordingsDir(dataDir)
    return {
      store: new FileRecordingStore(dir),
      reopen: () => new FileRecordingStore(dir),
      dispose: async () => rmSync(dataDir, {recursive: true, force: true}),
    }
  })

  describe('on disk', () => {
    test('an upload is <sid>.part under <data_dir>/log/records until complete renames it <sid>.rec; 0600 files in a 0700 dir', async () => {
      const dataDir = tempDataDir()
      try {
        const dir = path.join(dataDir, 'log', 'records')
        const store = new FileRecordingStore(recordingsDir(dataDir))
        const sid = randomUUID()
        await store.append(sid, 0, Readable.from([Buffer.from('abc')]))
        assert.deepEqual(readdirSync(dir), [`${sid}.part`])
        assert.equal(statSync(dir).mode & 0o777, 0o700)
        assert.equal(statSync(path.join(dir, `${sid}.part`)).mode & 0o777, 0o600)
        await store.complete(sid, {size: 3})
        assert.deepEqual(readdirSync(dir), [`${sid}.rec`])
        assert.equal(statSync(path.join(dir, `${sid}.rec`)).mode & 0o777, 0o600)
      } finally {
        rmSync(dataDir, {recursive: true, force: true})
      }
    })

    test('a failed append truncates the file back to its old size', async () => {
      const dataDir = tempDataDir()
      try {
        const store = new FileRecordingStore(recordingsDir(dataDir))
        const sid = randomUUID()
        await store.append(sid, 0, Readable.from([Buffer.from('abc')]))
        async function* broken() { yield Buffer.alloc(100_000); throw new Error('connection reset') }
        await assert.rejects(store.append(sid, 3, broken()), /connection reset/)
        assert.equal(statSync(path.join(recordingsDir(dataDir), `${sid}.part`)).size, 3)
      } finally {
        rmSync(dataDir, {recursive: true, force: true})
      }
    })
  })
})
