import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {readdirSync} from 'node:fs'
import {describe, test} from 'node:test'
import {fileURLToPath} from 'node:url'

// tctl create/get/rm check a resource file with the models alone: loading them must not load
// bcrypt (a native module) or otpauth, which only the services that store users need. A child
// process imports the modules with a resolve hook that reports every module it loads.

const repo = fileURLToPath(new URL('../../../', import.meta.url))
const HEAVY = ['bcrypt', 'otpauth']

const HOOKS = `
let port
export function initialize(data) { port = data.port }
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context)
  port.postMessage(specifier === 'node:path?loaded-modules-done' ? 'done' : resolved.url)
  return resolved
}`

const PROBE = `
import {register} from 'node:module'
import {MessageChannel} from 'node:worker_threads'
const {port1, port2} = new MessageChannel()
const loaded = []
const done = new Promise((resolve) => port1.on('message', (url) => (url === 'done' ? resolve() : loaded.push(url))))
register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(HOOKS)}), {data: {port: port2}, transferList: [port2]})
for (const file of JSON.parse(process.env.MODULES)) await import(file)
import.meta.resolve('node:path?loaded-modules-done')
await done
port1.close()
process.stdout.write(JSON.stringify(loaded))
`

/** The heavy packages loading `files` (paths under the repo) loads, and how many modules it loaded. */
function heavyLoadedBy(files: string[]): {heavy: string[]; count: number} {
  const modules = files.map((f) => new URL(f, `file://${repo}`).href)
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', PROBE], {cwd: repo, encoding: 'utf8', env: {...process.env, MODULES: JSON.stringify(modules)}, timeout: 60_000})
  assert.equal(r.status, 0, r.stderr)
  const loaded = JSON.parse(r.stdout) as string[]
  return {heavy: HEAVY.filter((name) => loaded.some((url) => url.includes(`/node_modules/${name}/`))), count: loaded.length}
}

describe('models load without the services\' heavy dependencies', () => {
  test('the probe sees bcrypt and otpauth when the user service is loaded', () => {
    assert.deepEqual(heavyLoadedBy(['src/services/users.ts']).heavy, HEAVY)
  })

  test("tctl's resource validation and rendering load neither", () => {
    const models = readdirSync(new URL('src/services/models/', `file://${repo}`)).filter((f) => f.endsWith('.ts')).map((f) => `src/services/models/${f}`)
    const {heavy, count} = heavyLoadedBy(['src/tctl/resources.ts', 'src/tctl/render.ts', ...models])
    assert.ok(count > models.length, `the modules were loaded (${count})`)
    assert.deepEqual(heavy, [])
  })
})
