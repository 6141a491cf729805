import assert from 'node:assert/strict'
import {readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {describe, test} from 'node:test'
import {fileURLToPath} from 'node:url'

// The layers of src/ (docs/DESIGN.md "Layers"): a file may import its own folder and any folder
// on a lower layer, never one above it nor a sibling on the same layer. Within the lowest
// domain layer, ssh is the ssh2 glue over sshca, so sshca sits one below.
export const LAYERS: readonly (readonly string[])[] = [
  ['commands'],
  ['client', 'daemon', 'tctl'],
  ['api', 'config'],
  ['services'],
  ['ssh', 'events', 'backend'],
  ['sshca'],
  ['lib'],
]

const srcDir = fileURLToPath(new URL('../../src/', import.meta.url))

function layerOf(folder: string): number {
  const index = LAYERS.findIndex(layer => layer.includes(folder))
  if (index < 0) throw new Error(`src/${folder} is in no layer: place it in LAYERS and in docs/DESIGN.md`)
  return index
}

/** Every relative import in a TypeScript source: static, type-only, re-export and dynamic. */
export function importsOf(source: string): string[] {
  const specs: string[] = []
  for (const match of source.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.{1,2}\/[^'"]+)['"]/g)) specs.push(match[1]!)
  return specs
}

/** The imports that break the layering, as "file: spec (from → to)". */
export function layerViolations(files: ReadonlyMap<string, string>): string[] {
  const found: string[] = []
  for (const [file, source] of files) {
    const from = file.split('/')[0]!
    for (const spec of importsOf(source)) {
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec))
      if (target.startsWith('..')) { found.push(`${file}: ${spec} (leaves src/)`); continue }
      const to = target.split('/')[0]!
      if (to === from) continue
      if (layerOf(to) <= layerOf(from)) found.push(`${file}: ${spec} (${from} → ${to})`)
    }
  }
  return found
}

function sourceTree(): Map<string, string> {
  const files = new Map<string, string>()
  for (const entry of readdirSync(srcDir, {recursive: true}) as string[]) {
    if (entry.endsWith('.ts')) files.set(entry.split(path.sep).join('/'), readFileSync(path.join(srcDir, entry), 'utf8'))
  }
  return files
}

describe('layers of src/', () => {
  test('no import runs upward or across the client/daemon divide', () => {
    const files = sourceTree()
    assert.ok(files.size > 100, 'the source tree was read')
    assert.deepEqual(layerViolations(files), [])
  })

  test('an upward, sideways or hidden import is caught', () => {
    const planted = new Map([
      ['lib/errors.ts', "import {x} from '../services/users.js'"],
      ['daemon/node/a.ts', "import type {Y} from '../../client/profile.js'"],
      ['sshca/sign.ts', "const m = await import('../ssh/index.js')"],
      ['services/users.ts', "export {z} from '../api/client.js'"],
      ['client/ok.ts', "import {a} from '../api/client.js'\nimport {b} from './sibling.js'"],
    ])
    assert.deepEqual(layerViolations(planted), [
      'lib/errors.ts: ../services/users.js (lib → services)',
      'daemon/node/a.ts: ../../client/profile.js (daemon → client)',
      'sshca/sign.ts: ../ssh/index.js (sshca → ssh)',
      'services/users.ts: ../api/client.js (services → api)',
    ])
  })

  test('a new top-level folder must be placed in a layer', () => {
    assert.throws(() => layerViolations(new Map([['web/a.ts', "import {x} from '../lib/log.js'"]])), /src\/web is in no layer/)
  })
})
