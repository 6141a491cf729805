import type {Hook} from '@oclif/core'
import {UsageError} from '../errors.js'
import {closestMatch} from './suggest.js'

// oclif calls this when argv names no command: answer as the tool, with a suggestion.
const hook: Hook<'command_not_found'> = async function (opts) {
  const bin = opts.config.bin
  const typed = opts.id.split(':').join(' ')
  const known = opts.config.commands.filter((c) => !c.hidden).map((c) => c.id.split(':').join(' '))
  const suggestion = closestMatch(typed, known)
  throw new UsageError(`unknown command "${typed}" for "${bin}"`, {
    hint: suggestion ? `did you mean "${bin} ${suggestion}"? See "${bin} --help"` : `see "${bin} --help" for the list of commands`,
  })
}

export default hook
