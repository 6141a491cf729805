import type {Writable} from 'node:stream'
import type {RecordedEvent} from '../../events/recording/index.js'
import {escapeEncoded} from '../../lib/safe-text.js'
import {writeOut} from '../recordings/write-out.js'

// `tsh play -f text|json|yaml`: the recording without its timing, as fast as it can be read.
// text is the output bytes alone, escape sequences kept (to grep, or to `less -R`); json is one
// event per line and yaml one YAML document per event, a print's output in `data` (base64, as
// Teleport's JSON has it).

export type DataFormat = 'text' | 'json' | 'yaml'

/** The event as json and yaml show it. */
export function eventData({event, data}: RecordedEvent): Record<string, unknown> {
  return data ? {...event, data: data.toString('base64')} : {...event}
}

export async function writeEvents(events: AsyncIterable<RecordedEvent>, format: DataFormat, out: Writable): Promise<void> {
  const toYaml = format === 'yaml' ? (await import('../../lib/yaml-text.js')).toSafeYAML : undefined
  for await (const recorded of events) {
    if (format === 'text') {
      if (recorded.event.event === 'print' && recorded.data) await writeOut(out, recorded.data)
    } else if (toYaml) {
      await writeOut(out, `---\n${toYaml(eventData(recorded))}`)
    } else {
      await writeOut(out, `${escapeEncoded(JSON.stringify(eventData(recorded)))}\n`)
    }
  }
}
