import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../lib/cli/base-command.js'
import {clusterFlag, dataFormatFlag, insecureFlag, proxyFlag, userFlag} from '../../client/cli-flags.js'

export default class Play extends BaseCommand {
  static override summary = 'Replay a session recording.'
  static override description =
    'Replays a recorded session in the terminal with its timing (--format pty), or prints it without timing: ' +
    'text is the output alone, escape sequences kept (to grep or page with less -R); json is one event per line; yaml one document per event. ' +
    'The argument is a recording file (from tsh recordings download), played with no cluster and no login, or else a session id, ' +
    'streamed from the cluster through the proxy (tsh recordings ls lists them). The recording is read as it plays, never loaded whole. ' +
    'Keys while playing: space pauses and resumes; right or up arrow skips 10 s forward; left or down arrow goes 10 s back; q, Ctrl-C or Ctrl-D quits. ' +
    'A damaged recording plays up to the damage, then the error says where it stopped.'
  static override examples = [
    '<%= config.bin %> play 5c5b6f4e-2c4c-4c1a-9f7e-0d3b4f6f8a11',
    '<%= config.bin %> play --speed 2x --skip-idle-time session.tsrec',
    '<%= config.bin %> play -f text session.tsrec | grep -a password',
    '<%= config.bin %> play -f json 5c5b6f4e-2c4c-4c1a-9f7e-0d3b4f6f8a11 | jq -c \'select(.event == "resize")\'',
  ]
  static override args = {
    recording: Args.string({description: 'Session id, or the path of a recording file', required: true}),
  }
  static override flags = {
    format: dataFormatFlag(['pty', 'text', 'json', 'yaml']),
    speed: Flags.string({description: 'Playback speed from 0.25 to 16: 2, 2x, 0.5x (pty only)', default: '1x'}),
    'skip-idle-time': Flags.boolean({description: 'Shorten pauses longer than a second to one second (pty only)'}),
    cluster: clusterFlag,
    proxy: proxyFlag,
    user: userFlag,
    insecure: insecureFlag,
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Play)
    const [{parseSpeed}, {openRecordingTarget}, {playRecording}, {connectRecordings}, {exitWhenReaderLeaves}] = await Promise.all([
      import('../../client/play/speed.js'),
      import('../../client/recordings/target.js'),
      import('../../client/play/play.js'),
      import('../../client/recordings/connect.js'),
      import('../../client/recordings/write-out.js'),
    ])
    const speed = parseSpeed(flags.speed)
    exitWhenReaderLeaves(process.stdout)
    const source = await openRecordingTarget(args.recording, () => connectRecordings(flags))
    await playRecording(source, {
      format: flags.format as 'pty' | 'text' | 'json' | 'yaml',
      speed,
      skipIdleTime: flags['skip-idle-time'],
      terminal: {stdin: process.stdin, stdout: process.stdout},
    })
  }
}
