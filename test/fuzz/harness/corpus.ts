import {createHash} from 'node:crypto'
import {mkdirSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

// The corpus: every input that ever failed, one file each, replayed by `npm test`. Text that
// survives UTF-8 is kept as .txt and bytes as .bin (both usable as they are, e.g. as a
// teleport.yaml); anything else as .json with Buffers and bigints tagged.

export const CORPUS_DIR = fileURLToPath(new URL('../corpus/', import.meta.url))

export interface Encoded {
  ext: 'txt' | 'bin' | 'json'
  data: Buffer
}

export function encodeInput(input: unknown): Encoded {
  if (typeof input === 'string') {
    const utf8 = Buffer.from(input, 'utf8')
    if (utf8.toString('utf8') === input) return {ext: 'txt', data: utf8}
  }
  if (input instanceof Uint8Array) return {ext: 'bin', data: Buffer.from(input)}
  return {ext: 'json', data: Buffer.from(JSON.stringify(input, replacer))}
}

export function decodeInput(ext: string, data: Buffer): unknown {
  if (ext === 'txt') return data.toString('utf8')
  if (ext === 'bin') return data
  if (ext === 'json') return JSON.parse(data.toString('utf8'), reviver)
  throw new Error(`unknown corpus file type .${ext}`)
}

function replacer(this: unknown, key: string, value: unknown): unknown {
  const raw = (this as Record<string, unknown>)[key]
  if (raw instanceof Uint8Array) return {$bytes: Buffer.from(raw).toString('base64')}
  if (typeof raw === 'bigint') return {$bigint: raw.toString()}
  if (raw instanceof Date) return {$date: raw.getTime()}
  return value
}

function reviver(_key: string, value: unknown): unknown {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const v = value as Record<string, unknown>
    const keys = Object.keys(v)
    if (keys.length === 1 && typeof v.$bytes === 'string') return Buffer.from(v.$bytes, 'base64')
    if (keys.length === 1 && typeof v.$bigint === 'string') return BigInt(v.$bigint)
    if (keys.length === 1 && typeof v.$date === 'number') return new Date(v.$date)
  }
  return value
}

export interface CorpusEntry {
  file: string
  input: unknown
}

export function readCorpus(targetName: string, dir = CORPUS_DIR): CorpusEntry[] {
  const targetDir = path.join(dir, targetName)
  let files: string[]
  try {
    files = readdirSync(targetDir).filter((f) => !f.startsWith('.')).sort()
  } catch {
    return []
  }
  return files.map((file) => ({file: path.join(targetDir, file), input: decodeInput(path.extname(file).slice(1), readFileSync(path.join(targetDir, file)))}))
}

/** Writes an encoded input under its content hash; returns the file path. */
export function saveToCorpus(targetName: string, encoded: Encoded, dir = CORPUS_DIR): string {
  const targetDir = path.join(dir, targetName)
  mkdirSync(targetDir, {recursive: true})
  const file = path.join(targetDir, `${createHash('sha256').update(encoded.data).digest('hex').slice(0, 16)}.${encoded.ext}`)
  writeFileSync(file, encoded.data)
  return file
}
