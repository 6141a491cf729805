import {createReadStream} from 'node:fs'
import {RecordingReader, RecordingWriter} from '/work/main/src/events/recording/index.js'
import {FakeClock} from '/work/main/src/lib/clock.js'
import {randomBytes} from 'node:crypto'
import {existsSync} from 'node:fs'
const file = '/tmp/big.tsrec'
if (!existsSync(file)) {
  const clock = new FakeClock()
  const w = await RecordingWriter.create(file, {clock, fields: {sid: 'x', user: 'a'}})
  w.start({size: '80:25'})
  for (let i = 0; i < 2400; i++) { w.print(Buffer.from(randomBytes(48 * 1024).toString('base64'))); clock.advance(20); if (i % 50 === 0) await w.flush() }
  await w.end({interactive: true})
}
let peak = 0
const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50)
const reader = await RecordingReader.fromStream(createReadStream(file, {highWaterMark: 64 * 1024}), 'x')
let bytes = 0
for await (const e of reader.events()) if (e.data) bytes += e.data.length
clearInterval(timer)
console.log('output MiB', (bytes / 1048576).toFixed(0), 'peak RSS MiB', (Math.max(peak, process.memoryUsage().rss) / 1048576).toFixed(0))
