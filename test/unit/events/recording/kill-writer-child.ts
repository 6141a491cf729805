// Run as a child process by kill.test.ts: records a session on the real clock, printing the
// number of events known to be on disk after each flush, until it is killed. Bounded, so that it
// cannot fill the disk if the test fails before the kill.
import {RecordingWriter} from '../../../../src/events/recording/index.js'

const file = process.argv[2]!
const writer = await RecordingWriter.create(file, {fields: {sid: 'killed'}})
writer.start({user: 'alice', size: '80:25'})
let events = 1
for (let i = 0; i < 100_000; i++) {
  writer.print(Buffer.from(`line ${i} ${'x'.repeat(200)}\r\n`))
  events++
  if (i % 100 === 99) {
    await writer.flush()
    process.stdout.write(`${events}\n`)
  }
}
