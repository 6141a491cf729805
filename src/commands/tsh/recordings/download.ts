import path from 'node:path'
import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../../lib/cli/base-command.js'
import {clusterFlag, insecureFlag, proxyFlag, userFlag} from '../../../client/cli-flags.js'

export default class RecordingsDownload extends BaseCommand {
  static override summary = 'Download a session recording to a file.'
  static override description =
    'Saves the recording of a session, as the cluster keeps it, to a file (default <id>.tsrec in the current directory; mode 0600). ' +
    'It is streamed to disk, written to a temporary file and renamed into place once complete, so a failed download leaves no partial file. ' +
    'An existing file is not replaced unless --force. On a terminal a progress line on stderr shows the bytes received and the rate. Play the file with tsh play <file>, no login needed, or export it with tsh recordings export.'
  static override examples = [
    '<%= config.bin %> recordings download 5c5b6f4e-2c4c-4c1a-9f7e-0d3b4f6f8a11',
    '<%= config.bin %> recordings download 5c5b6f4e-2c4c-4c1a-9f7e-0d3b4f6f8a11 --output incident-42.tsrec',
  ]
  static override args = {
    id: Args.string({description: 'Session id (from tsh recordings ls)', required: true}),
  }
  static override flags = {
    output: Flags.string({description: 'File to write [default: <id>.tsrec]'}),
    force: Flags.boolean({description: 'Replace the file if it exists'}),
    cluster: clusterFlag,
    proxy: proxyFlag,
    user: userFlag,
    insecure: insecureFlag,
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(RecordingsDownload)
    const [{assertSessionId}, {downloadRecording, RECORDING_FILE_EXTENSION}, {connectRecordings}, {withByteProgress}] = await Promise.all([
      import('../../../client/recordings/session-id.js'),
      import('../../../client/recordings/download.js'),
      import('../../../client/recordings/connect.js'),
      import('../../../lib/progress/bar.js'),
    ])
    const sid = assertSessionId(args.id)
    const api = await connectRecordings(flags)
    try {
      const output = flags.output ?? `${sid}${RECORDING_FILE_EXTENSION}`
      const {file, bytes} = await withByteProgress(path.basename(output), (onBytes) => downloadRecording(api, sid, {output, force: flags.force, ...(onBytes ? {onBytes} : {})}))
      process.stderr.write(`Saved the recording of session ${sid} to ${file} (${bytes} bytes).\n`)
    } finally {
      await api.close().catch(() => {})
    }
  }
}
