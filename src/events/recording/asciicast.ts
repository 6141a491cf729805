// A recording as asciicast v2 (https://docs.asciinema.org/manual/asciicast/v2/), one line at a
// time: a header with the terminal's width and height, then [seconds, "o", text] for output and
// [seconds, "r", "COLSxROWS"] for resizes. Times count from the recording's start.
import {StringDecoder} from 'node:string_decoder'
import {BadParameterError} from '../../lib/errors.js'
import {parseTerminalSize, type RecordedEvent} from './events.js'

/** The cast's lines, each ending in "\n". Throws BadParameterError if session.start is not first. */
export async function* toAsciicast(events: AsyncIterable<RecordedEvent>): AsyncGenerator<string> {
  // Output bytes may split a UTF-8 character across prints: decode as one stream.
  const decoder = new StringDecoder('utf8')
  let started = false
  let seconds = 0
  for await (const {event, data, elapsedMs} of events) {
    seconds = Math.round(elapsedMs) / 1000
    if (!started) {
      const size = event.event === 'session.start' ? parseTerminalSize(event.size) : undefined
      if (!size) throw new BadParameterError('the recording does not begin with a session.start that gives the terminal size')
      started = true
      const header = {version: 2, width: size.cols, height: size.rows, timestamp: Math.floor(Date.parse(event.time) / 1000)}
      yield `${JSON.stringify(header)}\n`
      continue
    }
    if (event.event === 'print' && data) {
      const text = decoder.write(data)
      if (text) yield `${JSON.stringify([seconds, 'o', text])}\n`
    } else if (event.event === 'resize') {
      const size = parseTerminalSize(event.size)
      if (size) yield `${JSON.stringify([seconds, 'r', `${size.cols}x${size.rows}`])}\n`
    }
  }
  const rest = decoder.end()
  if (rest) yield `${JSON.stringify([seconds, 'o', rest])}\n`
}
