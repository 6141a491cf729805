import {UserError} from '../../lib/errors.js'

// Teleport's tsh aliases (config file `aliases: {name: "command line"}`): an alias is the first
// argument of a tsh command line. Its value is split like a shell would split it (quotes and
// backslashes, no expansion), then `$0`..`$9` become the arguments after the alias name (those it
// does not name are appended) and `$TSH` this tsh. A value starting with `tsh` or `$TSH` runs in
// this process, so aliases may call aliases; anything else is run as a program with $TSH in its
// environment. An alias may call the built-in command it shadows (`ssh: "tsh ssh -A $0"`);
// otherwise an alias met again is a loop, refused with the chain. The chain also travels to
// programs an alias runs ($TSH_ALIAS_STACK), so a loop through a program is caught as well.

export const ALIAS_STACK_ENV = 'TSH_ALIAS_STACK'

export interface AliasContext {
  aliases: Readonly<Record<string, string>>
  /** tsh's command ids ("proxy:ssh"): an alias naming one may call it. */
  commandIds: readonly string[]
  /** How to run this tsh: [script, ...prefixArgs]. */
  tsh: readonly string[]
  /** Aliases already being expanded by the tsh that ran this one. */
  stack?: readonly string[]
  /** The config files, for the hint. */
  files?: readonly string[]
}

export type AliasOutcome = {kind: 'argv'; argv: string[]} | {kind: 'exec'; file: string; args: string[]; env: Record<string, string>}

/** Shell-like words: whitespace separates; '...' is literal; "..." and bare text take backslash escapes. */
export function splitWords(text: string, what: string): string[] {
  const words: string[] = []
  let word: string | undefined
  let quote: '"' | "'" | undefined
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (quote === "'") {
      if (c === "'") quote = undefined
      else word += c
      continue
    }
    if (c === '\\' && i + 1 < text.length && (quote === undefined || /["\\$]/.test(text[i + 1]!))) {
      word = (word ?? '') + text[++i]
      continue
    }
    if (quote === '"') {
      if (c === '"') quote = undefined
      else word += c
      continue
    }
    if (c === '"' || c === "'") {
      quote = c
      word ??= ''
    } else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word)
      word = undefined
    } else {
      word = (word ?? '') + c
    }
  }
  if (quote) throw new UserError(`${what}: unterminated ${quote === '"' ? 'double' : 'single'} quote`)
  if (word !== undefined) words.push(word)
  return words
}

const ARG_REF = /\$(\d)/g

/** The alias's words with $N and $TSH replaced; arguments no $N names are appended. */
export function substitute(words: string[], args: readonly string[], tsh: readonly string[]): string[] {
  const used = new Set<number>()
  const out: string[] = []
  for (const word of words) {
    if (word === '$TSH') {
      out.push(...tsh)
      continue
    }
    const whole = /^\$(\d)$/.exec(word)
    if (whole) {
      const n = Number(whole[1])
      used.add(n)
      if (n < args.length) out.push(args[n]!)
      continue
    }
    out.push(
      word.replaceAll('$TSH', tsh.join(' ')).replace(ARG_REF, (_, d: string) => {
        used.add(Number(d))
        return args[Number(d)] ?? ''
      }),
    )
  }
  return [...out, ...args.filter((_, i) => !used.has(i))]
}

export function expandAliases(argv: readonly string[], ctx: AliasContext): AliasOutcome {
  const stack = [...(ctx.stack ?? [])]
  const builtins = new Set(ctx.commandIds.map((id) => id.split(':')[0]))
  let current = [...argv]
  for (;;) {
    const name = current[0]
    if (name === undefined || !Object.hasOwn(ctx.aliases, name)) return {kind: 'argv', argv: current}
    if (stack.includes(name)) {
      if (builtins.has(name)) return {kind: 'argv', argv: current}
      throw new UserError(`alias loop: ${[...stack, name].join(' -> ')}`, {hint: `fix the aliases in ${ctx.files?.join(' or ') || 'the tsh config file'}`})
    }
    stack.push(name)
    const words = splitWords(ctx.aliases[name]!, `alias "${name}"`)
    if (words.length === 0) throw new UserError(`alias "${name}" is empty`)
    const args = current.slice(1)
    if (words[0] === 'tsh' || words[0] === '$TSH') {
      current = substitute(words.slice(1), args, ctx.tsh)
      continue
    }
    const [file, ...rest] = substitute(words, args, ctx.tsh)
    return {kind: 'exec', file: file!, args: rest, env: {TSH: ctx.tsh.join(' '), [ALIAS_STACK_ENV]: stack.join(',')}}
  }
}
