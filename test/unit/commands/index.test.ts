import assert from 'node:assert/strict'
import {readdirSync} from 'node:fs'
import path from 'node:path'
import {test} from 'node:test'
import {fileURLToPath} from 'node:url'
import {COMMAND_MODULES} from '../../../src/commands/index.js'

// The commands are listed by hand (oclif's explicit strategy, so the build can bundle them): a
// command file left out of the list would silently vanish from the tools, their help and man pages.

const commandsDir = fileURLToPath(new URL('../../../src/commands/', import.meta.url))

test('COMMAND_MODULES names every command file under src/commands/<tool>/, by its id', () => {
  const ids = (readdirSync(commandsDir, {recursive: true}) as string[])
    .map((file) => file.split(path.sep).join('/'))
    .filter((file) => file.includes('/') && file.endsWith('.ts'))
    .map((file) => file.slice(0, -'.ts'.length).replaceAll('/', ':'))
  assert.deepEqual(Object.keys(COMMAND_MODULES).sort(), ids.sort())
})

test('each entry loads a command class', async () => {
  for (const [id, load] of Object.entries(COMMAND_MODULES)) {
    const command = (await load()).default
    assert.equal(typeof command.prototype.run, 'function', `${id} is not a command`)
  }
})
