import {existsSync} from 'node:fs'
import type {UserAuthApi} from '../../api/auth-api.js'
import {UsageError} from '../../lib/errors.js'
import {isSessionId} from './session-id.js'
import {fileSource, sessionSource, type RecordingSource} from './source.js'

// What `tsh play` and `tsh recordings export` take: a recording file, played with no cluster
// and no login, or else a session id, read from the cluster through the proxy.

export type RecordingApi = Pick<UserAuthApi, 'openRecording' | 'close'>

/** `connect` is called only for a session id (it loads the login and dials the proxy). */
export async function openRecordingTarget(target: string, connect: () => Promise<RecordingApi>): Promise<RecordingSource> {
  if (existsSync(target)) return fileSource(target)
  if (!isSessionId(target)) {
    throw new UsageError(`${JSON.stringify(target)} is neither a recording file nor a session id`, {hint: 'give the path of a .tsrec file, or a session id from tsh recordings ls'})
  }
  const api = await connect()
  try {
    const source = await sessionSource(api, target)
    return {
      name: source.name,
      from: (fromMs) => source.from(fromMs),
      async close() {
        await source.close()
        await api.close()
      },
    }
  } catch (err) {
    await api.close().catch(() => {})
    throw err
  }
}
