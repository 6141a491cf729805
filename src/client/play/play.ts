import {systemClock, type Clock} from '../../lib/clock.js'
import type {RecordingSource} from '../recordings/source.js'
import {writeEvents, type DataFormat} from './formats.js'
import {Player, type PlayerEnd} from './player.js'
import {playOnTerminal, type PlaybackTerminal} from './terminal.js'

// `tsh play`: a recording replayed on the terminal with its timing (pty), or printed without it
// (text, json, yaml). The source is closed however playing ends.

export type PlayFormat = 'pty' | DataFormat

export interface PlayOptions {
  format: PlayFormat
  speed?: number
  skipIdleTime?: boolean
  clock?: Clock
  terminal: PlaybackTerminal
}

export async function playRecording(source: RecordingSource, options: PlayOptions): Promise<PlayerEnd> {
  try {
    if (options.format !== 'pty') {
      await writeEvents((await source.from(0)).events, options.format, options.terminal.stdout)
      return 'end'
    }
    const player = new Player({
      source,
      out: options.terminal.stdout,
      clock: options.clock ?? systemClock,
      ...(options.speed ? {speed: options.speed} : {}),
      ...(options.skipIdleTime ? {skipIdleTime: true} : {}),
    })
    return await playOnTerminal(player, options.terminal)
  } finally {
    await source.close()
  }
}
