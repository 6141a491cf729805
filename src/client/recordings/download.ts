import type {UserAuthApi} from '../../api/auth-api.js'
import {assertSessionId} from './session-id.js'
import {writeFileFromChunks} from './file-output.js'

// `tsh recordings download`: the recording file's bytes as auth keeps them, streamed to disk
// (0600, temp file then rename; an existing file is kept unless --force). The file plays with
// `tsh play <file>` without a cluster.

export const RECORDING_FILE_EXTENSION = '.tsrec'

export interface DownloadOptions {
  /** Default: `<sid>.tsrec` in the current directory. */
  output?: string
  force?: boolean
  /** Called as bytes arrive, with how many have so far (the progress bar). */
  onBytes?: (received: number) => void
}

export async function downloadRecording(api: Pick<UserAuthApi, 'openRecording'>, sid: string, options: DownloadOptions = {}): Promise<{file: string; bytes: number}> {
  assertSessionId(sid)
  const file = options.output ?? `${sid}${RECORDING_FILE_EXTENSION}`
  // Asked for only once the target is known to be free and the temp file is made.
  async function* body(): AsyncGenerator<Uint8Array> {
    const stream = await api.openRecording(sid)
    let received = 0
    try {
      for await (const chunk of stream) {
        received += (chunk as Uint8Array).length
        options.onBytes?.(received)
        yield chunk as Uint8Array
      }
    } finally {
      stream.destroy()
    }
  }
  const bytes = await writeFileFromChunks(file, body(), {force: options.force ?? false})
  return {file, bytes}
}
