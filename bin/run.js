#!/usr/bin/env node
// The one entrypoint for tsh, tctl and teleport (and ssh/scp when linked under those names).
// It loads the bundle that npm run build writes (scripts/bundle.js).
import module from 'node:module'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

// Node 22+ keeps compiled code between runs (in the OS temp dir), so later starts skip compiling
// the bundle; Node 20 has no such cache and goes on as before.
module.enableCompileCache?.()
const {COMMAND_MODULES, ARGV_HOOKS} = await import('../dist/bundle/commands.js')
const {main} = await import('../dist/bundle/entry.js')

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)))
const invokedAs = path.basename(process.argv[1] ?? 'teleport')
process.exitCode = await main({root, invokedAs, argv: process.argv.slice(2), commandModules: COMMAND_MODULES, argvHooks: ARGV_HOOKS})
