// Trait templates in role fields: "{{internal.logins}}", "{{external.groups}}", "{{internal[\"x\"]}}",
// optionally with literal text around them ("dev-{{internal.logins}}"). A template expands to one
// value per value of the trait; a trait the user does not have expands to nothing (the entry is dropped).

/** A user's traits: name → values (e.g. {logins: ['root', 'alice']}). */
export type Traits = Record<string, string[]>

const ANY_TEMPLATE = /\{\{(.*?)\}\}/g
const VARIABLE = /^\s*(internal|external)\s*(?:\.\s*([A-Za-z0-9_.:/-]+)|\[\s*"([^"]+)"\s*\])\s*$/

export interface TemplatePart {
  prefix: string
  namespace: 'internal' | 'external'
  trait: string
  suffix: string
}

/**
 * Parses a value that may hold one trait template. Returns undefined for a plain literal;
 * throws Error (message without context: callers add the field) for a template we don't support.
 */
export function parseTemplate(value: string): TemplatePart | undefined {
  const matches = [...value.matchAll(ANY_TEMPLATE)]
  if (matches.length === 0) {
    if (value.includes('{{') || value.includes('}}')) throw new Error(`unterminated template in ${JSON.stringify(value)}`)
    return undefined
  }
  if (matches.length > 1) throw new Error(`only one template is allowed in ${JSON.stringify(value)}`)
  const match = matches[0]!
  const variable = VARIABLE.exec(match[1]!)
  if (!variable) {
    throw new Error(`unsupported template ${JSON.stringify(match[0])}; expected {{internal.<trait>}} or {{external.<trait>}}`)
  }
  const prefix = value.slice(0, match.index)
  const suffix = value.slice(match.index! + match[0].length)
  if (prefix.includes('{{') || prefix.includes('}}') || suffix.includes('{{') || suffix.includes('}}')) {
    throw new Error(`unterminated template in ${JSON.stringify(value)}`)
  }
  return {prefix, namespace: variable[1] as 'internal' | 'external', trait: (variable[2] ?? variable[3])!, suffix}
}

/**
 * Expands one value against traits: a literal stays itself, a template becomes one value per trait
 * value (with its prefix and suffix), an unknown trait or an invalid template yields nothing.
 * Both namespaces read the same trait map (local users keep every trait there).
 */
export function expandTemplate(value: string, traits: Traits): string[] {
  let part: TemplatePart | undefined
  try {
    part = parseTemplate(value)
  } catch {
    return []
  }
  if (!part) return [value]
  const values = Object.hasOwn(traits, part.trait) ? traits[part.trait] : undefined
  if (!Array.isArray(values)) return []
  return values.filter((v) => typeof v === 'string' && v !== '').map((v) => `${part.prefix}${v}${part.suffix}`)
}

/** Expands every value, dropping duplicates and empties, keeping first-seen order. */
export function expandAll(values: readonly string[], traits: Traits): string[] {
  const out = new Set<string>()
  for (const value of values) for (const expanded of expandTemplate(value, traits)) if (expanded !== '') out.add(expanded)
  return [...out]
}
