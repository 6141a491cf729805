import {randomUUID} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {writeFileAtomic} from '../../lib/atomic-write.js'
import {dataDirPaths} from '../../config/data-dir.js'

// This host's UUID (<data_dir>/host_uuid): made once, kept for good; its identity hangs off it.
export function readOrCreateHostUuid(dataDir: string): string {
  const file = dataDirPaths(dataDir).hostUuid
  try {
    const uuid = readFileSync(file, 'utf8').trim()
    if (/^[0-9a-f-]{36}$/i.test(uuid)) return uuid
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  const uuid = randomUUID()
  writeFileAtomic(file, uuid + '\n')
  return uuid
}
