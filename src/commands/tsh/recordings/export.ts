import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../../lib/cli/base-command.js'
import {clusterFlag, insecureFlag, proxyFlag, userFlag} from '../../../client/cli-flags.js'

export default class RecordingsExport extends BaseCommand {
  static override summary = 'Export a session recording as asciicast.'
  static override description =
    'Converts a recording to asciicast v2, the format asciinema plays (asciinema play, asciinema cat): a header with the terminal\'s width and height, ' +
    'then one line per output ("o") and resize ("r", COLSxROWS), timed from the session\'s start. ' +
    'The argument is a recording file, or else a session id read from the cluster through the proxy; the recording is converted as it is read. ' +
    'Writes to standard output, or with --output to a file (mode 0600; an existing file is not replaced unless --force). ' +
    'A damaged recording is exported up to the damage, then the error says where it stopped.'
  static override examples = [
    '<%= config.bin %> recordings export 5c5b6f4e-2c4c-4c1a-9f7e-0d3b4f6f8a11 --output session.cast',
    '<%= config.bin %> recordings export session.tsrec > session.cast && asciinema play session.cast',
  ]
  static override args = {
    recording: Args.string({description: 'Session id, or the path of a recording file', required: true}),
  }
  static override flags = {
    format: Flags.string({char: 'f', description: 'Export format: asciicast', default: 'asciicast', options: ['asciicast']}),
    output: Flags.string({description: 'File to write [default: standard output]'}),
    force: Flags.boolean({description: 'Replace the --output file if it exists'}),
    cluster: clusterFlag,
    proxy: proxyFlag,
    user: userFlag,
    insecure: insecureFlag,
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(RecordingsExport)
    const [{openRecordingTarget}, {exportAsciicast}, {connectRecordings}, {exitWhenReaderLeaves}] = await Promise.all([
      import('../../../client/recordings/target.js'),
      import('../../../client/recordings/export.js'),
      import('../../../client/recordings/connect.js'),
      import('../../../client/recordings/write-out.js'),
    ])
    exitWhenReaderLeaves(process.stdout)
    const source = await openRecordingTarget(args.recording, () => connectRecordings(flags))
    try {
      await exportAsciicast(source, {...(flags.output ? {output: flags.output} : {}), force: flags.force, stdout: process.stdout})
    } finally {
      await source.close()
    }
  }
}
