import fc from 'fast-check'
import {SshWriter} from '../../src/sshca/wire.js'

// Structure-aware inputs: valid-ish SSH wire blobs with mutated length fields, YAML with anchors
// and aliases, deeply nested JSON, paths full of percent-escapes. Random text alone rarely gets
// past a parser's first check; these reach the code behind it.

// ---- bytes ------------------------------------------------------------------------------------

/** Offsets holding a big-endian uint32 that could be an SSH length prefix (it fits what follows). */
export function lengthOffsets(buf: Buffer): number[] {
  const out: number[] = []
  for (let i = 0; i + 4 <= buf.length; i++) {
    const v = buf.readUInt32BE(i)
    if (v > 0 && v <= buf.length - i - 4) out.push(i)
  }
  return out
}

type Mutation =
  | {op: 'length'; pick: number; value: number}
  | {op: 'set'; at: number; byte: number}
  | {op: 'truncate'; at: number}
  | {op: 'insert'; at: number; bytes: Uint8Array}
  | {op: 'delete'; at: number; count: number}

const interesting32 = fc.oneof(fc.constantFrom(0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe, 256 * 1024 + 1), fc.nat({max: 0xffffffff}))

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  {weight: 4, arbitrary: fc.record({op: fc.constant('length' as const), pick: fc.nat(), value: fc.oneof(interesting32, fc.integer({min: -8, max: 8}))})},
  {weight: 3, arbitrary: fc.record({op: fc.constant('set' as const), at: fc.nat(), byte: fc.nat({max: 255})})},
  {weight: 1, arbitrary: fc.record({op: fc.constant('truncate' as const), at: fc.nat()})},
  {weight: 1, arbitrary: fc.record({op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({minLength: 1, maxLength: 16})})},
  {weight: 1, arbitrary: fc.record({op: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({min: 1, max: 16})})},
)

function mutate(seed: Buffer, mutations: Mutation[]): Buffer {
  let buf = Buffer.from(seed)
  for (const m of mutations) {
    if (buf.length === 0) break
    const at = 'at' in m ? m.at % buf.length : 0
    if (m.op === 'length') {
      const offsets = lengthOffsets(buf)
      if (offsets.length === 0) continue
      const offset = offsets[m.pick % offsets.length]!
      const current = buf.readUInt32BE(offset)
      // Small values nudge the real length (off by one, by a few); the rest replace it.
      const value = m.value >= -8 && m.value <= 8 ? (current + m.value) >>> 0 : m.value >>> 0
      buf.writeUInt32BE(value, offset)
    } else if (m.op === 'set') buf[at] = m.byte
    else if (m.op === 'truncate') buf = buf.subarray(0, at)
    else if (m.op === 'insert') buf = Buffer.concat([buf.subarray(0, at), m.bytes, buf.subarray(at)])
    else buf = Buffer.concat([buf.subarray(0, at), buf.subarray(at + m.count)])
  }
  return buf
}

/** One of `seeds` with a few mutations (none at times: the seeds themselves must pass). */
export function mutatedBytes(seeds: Buffer[]): fc.Arbitrary<Buffer> {
  return fc.tuple(fc.nat({max: seeds.length - 1}), fc.array(mutation, {maxLength: 4})).map(([i, ms]) => mutate(seeds[i]!, ms))
}

/** A run of SSH fields: strings holding known names, random bytes or nested strings, and integers. */
export function sshFields(names: string[]): fc.Arbitrary<Buffer> {
  const field: fc.Arbitrary<Buffer> = fc.oneof(
    fc.constantFrom(...names).map((n) => new SshWriter().string(n).toBuffer()),
    fc.uint8Array({maxLength: 64}).map((b) => new SshWriter().string(Buffer.from(b)).toBuffer()),
    fc.nat({max: 0xffffffff}).map((n) => new SshWriter().uint32(n).toBuffer()),
    fc.array(fc.constantFrom(...names), {maxLength: 4}).map((ns) => {
      const inner = new SshWriter()
      for (const n of ns) inner.string(n)
      return new SshWriter().string(inner.toBuffer()).toBuffer()
    }),
  )
  return fc.array(field, {maxLength: 8}).map((parts) => Buffer.concat(parts))
}

/** Text lines that look like SSH key or certificate lines: a type word, base64 of a blob, a comment. */
export function keyLines(blobs: fc.Arbitrary<Buffer>, types: string[]): fc.Arbitrary<string> {
  return fc
    .tuple(fc.option(fc.constantFrom('@cert-authority *', 'cert-authority', 'from="10.0.0.1"')), fc.constantFrom(...types), blobs, fc.option(fc.string({maxLength: 20})))
    .map(([marker, type, blob, comment]) => [marker, type, blob.toString('base64'), comment].filter((p) => p !== null).join(' '))
}

// ---- text -------------------------------------------------------------------------------------

/** Text with unusual characters: controls, quotes, lone surrogates, YAML and URL specials. */
export const oddText: fc.Arbitrary<string> = fc.oneof(
  fc.string({maxLength: 40}),
  fc.string({unit: 'binary', maxLength: 20}),
  fc.array(fc.constantFrom('\0', '\n', '\r', '\t', ' ', '#', ':', '"', "'", '\\', '%', '&', '*', '!', '|', '>', '[', ']', '{', '}', ',', '-', '\u2028', '\ud800', 'é', '𝕏', '\x1b[2J'), {maxLength: 20}).map((a) => a.join('')),
)

/** Path segments mixing route words, parameters and percent-escapes good and bad. */
export function urlPaths(words: string[]): fc.Arbitrary<string> {
  const segment = fc.oneof(
    fc.constantFrom(...words),
    fc.constantFrom('%', '%2', '%zz', '%2F', '%2f', '%00', '%25', '%E0%A4%A', '%C0%AF', '%FF', '%ED%A0%80', '..', '.', '%2e%2e', ''),
    fc.string({maxLength: 8}),
    fc.tuple(fc.constantFrom(...words), fc.constantFrom('%', '%4', '%G1', '%41', '%uD800')).map(([w, e]) => w + e),
  )
  return fc
    .tuple(fc.array(segment, {minLength: 1, maxLength: 6}), fc.option(fc.array(fc.tuple(fc.string({maxLength: 6}), fc.constantFrom('1', '%', '%zz', 'a=b', '')), {maxLength: 3})))
    .map(([segments, query]) => `/${segments.join('/')}${query ? `?${query.map(([k, v]) => `${k}=${v}`).join('&')}` : ''}`)
}

// ---- JSON -------------------------------------------------------------------------------------

/** JSON text: objects with the fields a handler reads, any JSON, deep nesting, and broken JSON. */
export function jsonBodies(fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<string> {
  const known = fc.record(fields, {requiredKeys: []})
  return fc.oneof(
    {weight: 4, arbitrary: known.map((o) => JSON.stringify(o))},
    {weight: 2, arbitrary: fc.json({maxDepth: 4})},
    {weight: 1, arbitrary: fc.tuple(fc.integer({min: 1, max: 200_000}), fc.constantFrom('[', '{"a":')).map(([n, open]) => open.repeat(n) + '1' + (open === '[' ? ']' : '}').repeat(n))},
    {weight: 1, arbitrary: fc.tuple(known.map((o) => JSON.stringify(o)), fc.nat(), fc.string({maxLength: 3})).map(([text, at, junk]) => text.slice(0, at % (text.length + 1)) + junk)},
    {weight: 1, arbitrary: oddText},
  )
}

// ---- YAML -------------------------------------------------------------------------------------

type YamlNode = {t: 'scalar'; v: string} | {t: 'alias'; n: number} | {t: 'map'; entries: [string, YamlNode][]; anchor?: number; flow: boolean} | {t: 'seq'; items: YamlNode[]; anchor?: number; flow: boolean}

function yamlNodes(keys: string[], scalars: string[]): fc.Arbitrary<YamlNode> {
  const {node} = fc.letrec<{node: YamlNode}>((tie) => ({
    node: fc.oneof(
      {depthSize: 'small', withCrossShrink: true},
      {weight: 4, arbitrary: fc.oneof(fc.constantFrom(...scalars), oddText).map((v) => ({t: 'scalar' as const, v}))},
      {weight: 1, arbitrary: fc.nat({max: 3}).map((n) => ({t: 'alias' as const, n}))},
      {
        weight: 2,
        arbitrary: fc
          .record({entries: fc.array(fc.tuple(fc.oneof({weight: 5, arbitrary: fc.constantFrom(...keys)}, {weight: 1, arbitrary: oddText}), tie('node')), {maxLength: 5}), anchor: fc.option(fc.nat({max: 3}), {nil: undefined}), flow: fc.boolean()})
          .map((r) => ({t: 'map' as const, ...r})),
      },
      {
        weight: 1,
        arbitrary: fc.record({items: fc.array(tie('node'), {maxLength: 4}), anchor: fc.option(fc.nat({max: 3}), {nil: undefined}), flow: fc.boolean()}).map((r) => ({t: 'seq' as const, ...r})),
      },
    ),
  }))
  return node
}

function plainOrQuoted(text: string): string {
  return /^[A-Za-z0-9_./:-]*$/.test(text) && !text.startsWith('-') && !text.includes(': ') ? text : JSON.stringify(text)
}

function renderFlow(node: YamlNode): string {
  if (node.t === 'scalar') return plainOrQuoted(node.v)
  if (node.t === 'alias') return `*a${node.n}`
  const anchor = node.anchor !== undefined ? `&a${node.anchor} ` : ''
  if (node.t === 'seq') return `${anchor}[${node.items.map(renderFlow).join(', ')}]`
  return `${anchor}{${node.entries.map(([k, v]) => `${plainOrQuoted(k)}: ${renderFlow(v)}`).join(', ')}}`
}

function renderBlock(node: YamlNode, indent: string): string[] {
  if (node.t === 'scalar' || node.t === 'alias' || node.flow) return [renderFlow(node)]
  const anchor = node.anchor !== undefined ? `&a${node.anchor}` : ''
  const lines: string[] = anchor ? [anchor] : []
  const children = node.t === 'map' ? node.entries.map(([k, v]) => [`${plainOrQuoted(k)}:`, v] as const) : node.items.map((v) => ['-', v] as const)
  if (children.length === 0) return [`${anchor} ${node.t === 'map' ? '{}' : '[]'}`.trim()]
  const out: string[] = []
  for (const [head, child] of children) {
    const inner = renderBlock(child, indent + '  ')
    if (inner.length === 1) out.push(`${indent}${head} ${inner[0]}`)
    else out.push(`${indent}${head} ${inner[0]!.startsWith('&') ? inner[0] : ''}`.trimEnd(), ...inner.slice(inner[0]!.startsWith('&') ? 1 : 0))
  }
  return anchor ? [anchor, ...out] : out
}

/** The classic alias bomb ("billion laughs"): each level lists the previous one `width` times. */
export const aliasBomb: fc.Arbitrary<string> = fc.tuple(fc.integer({min: 2, max: 10}), fc.integer({min: 2, max: 10})).map(([width, depth]) => {
  const lines = [`l0: &l0 [${Array(width).fill('"lol"').join(',')}]`]
  for (let i = 1; i < depth; i++) lines.push(`l${i}: &l${i} [${Array(width).fill(`*l${i - 1}`).join(',')}]`)
  return `${lines.join('\n')}\nbomb: *l${depth - 1}\n`
})

/** YAML text built from `keys` and `scalars`, with anchors, aliases, flow and block styles, and bombs. */
export function yamlText(keys: string[], scalars: string[]): fc.Arbitrary<string> {
  const docs = yamlNodes(keys, scalars).map((n) => `${renderBlock(n, '').join('\n')}\n`)
  return fc.oneof(
    {weight: 6, arbitrary: docs},
    {weight: 1, arbitrary: fc.array(docs, {minLength: 2, maxLength: 3}).map((d) => d.join('---\n'))},
    {weight: 1, arbitrary: aliasBomb},
    {weight: 1, arbitrary: fc.integer({min: 1, max: 5000}).map((n) => '['.repeat(n) + ']'.repeat(n))},
    {weight: 1, arbitrary: fc.tuple(docs, fc.nat(), oddText).map(([text, at, junk]) => text.slice(0, at % (text.length + 1)) + junk + text.slice(at % (text.length + 1)))},
  )
}
