// The profile file (~/.tsh/<proxy-host>.yaml): flat keys with scalar or list values, as Teleport
// writes it. A tiny codec instead of the yaml package because `tsh status` reads every profile
// and must start fast; anything it cannot read is reported, never guessed.

export type ProfileValue = string | boolean | string[]

/** Renders keys in the given order; lists in block style, empty lists as []. */
export function encodeProfileYaml(fields: [string, ProfileValue | undefined][]): string {
  const lines: string[] = []
  for (const [key, value] of fields) {
    if (value === undefined) continue
    if (Array.isArray(value)) {
      if (value.length === 0) lines.push(`${key}: []`)
      else lines.push(`${key}:`, ...value.map((v) => `- ${scalar(v)}`))
    } else {
      lines.push(`${key}: ${typeof value === 'boolean' ? String(value) : scalar(value)}`)
    }
  }
  return lines.join('\n') + '\n'
}

/** Plain when YAML would read it back unchanged as a string; JSON-quoted (valid YAML) otherwise. */
function scalar(value: string): string {
  const plain = /^[A-Za-z0-9_./@\[\]-][A-Za-z0-9_./@:\[\]-]*$/.test(value) && !/^(true|false|null|yes|no|on|off|~|[-+]?[0-9.]+)$/i.test(value) && !value.startsWith('[')
  return plain ? value : JSON.stringify(value)
}

function unquote(text: string, where: string): string {
  const t = text.trim()
  if (t.startsWith('"')) {
    try {
      return JSON.parse(t) as string
    } catch {
      throw new Error(`${where}: bad double-quoted string`)
    }
  }
  if (t.startsWith("'")) {
    if (!t.endsWith("'") || t.length < 2) throw new Error(`${where}: bad single-quoted string`)
    return t.slice(1, -1).replace(/''/g, "'")
  }
  return t
}

function stripComment(line: string): string {
  // A " #" outside quotes starts a comment; our values never hold one unquoted.
  let quote: string | undefined
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!
    if (quote) {
      if (c === '\\' && quote === '"') i++ // an escaped character, perhaps a quote, inside "..."
      else if (c === quote) quote = undefined
    } else if (c === '"' || c === "'") quote = c
    else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]!))) return line.slice(0, i)
  }
  return line
}

function flowList(text: string, where: string): string[] {
  const inner = text.trim().slice(1, -1).trim()
  if (!inner) return []
  return inner.split(',').map((item) => unquote(item, where))
}

/** Parses the flat mapping; throws Error with a line number on anything else. */
export function decodeProfileYaml(text: string): Record<string, ProfileValue> {
  const out: Record<string, ProfileValue> = {}
  let listKey: string | undefined
  const lines = text.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    const where = `line ${i + 1}`
    const line = stripComment(lines[i]!).replace(/\s+$/, '')
    if (!line.trim() || line.trim() === '---') continue
    const item = line.match(/^\s*-\s+(.*)$/) ?? line.match(/^\s*-$/)
    if (item) {
      if (!listKey) throw new Error(`${where}: list item outside a list`)
      ;(out[listKey] as string[]).push(unquote(item[1] ?? '', where))
      continue
    }
    const pair = line.match(/^([A-Za-z0-9_.-]+):(?:\s+(.*))?$/)
    if (!pair || /^\s/.test(line)) throw new Error(`${where}: expected "key: value"`)
    const [, key, raw] = pair
    const value = (raw ?? '').trim()
    listKey = undefined
    if (value === '') {
      out[key!] = []
      listKey = key
    } else if (value.startsWith('[')) {
      if (!value.endsWith(']')) throw new Error(`${where}: unterminated [list]`)
      out[key!] = flowList(value, where)
    } else if (value === 'true' || value === 'false') {
      out[key!] = value === 'true'
    } else {
      out[key!] = unquote(value, where)
    }
  }
  return out
}
