import type {Command} from '@oclif/core'
import {COMMAND_MODULES} from './index.js'

// What `oclif manifest` reads (package.json oclif.commands, strategy "explicit"): every command
// class, loaded. The running tools never import this; they load one command from COMMAND_MODULES.
export const COMMANDS: Record<string, Command.Class> = Object.fromEntries(
  await Promise.all(Object.entries(COMMAND_MODULES).map(async ([id, load]) => [id, (await load()).default] as const)),
)
