#!/usr/bin/env node
// The one entrypoint for tsh, tctl and teleport (and ssh/scp when linked under those names).
// It loads the bundle that npm run build writes (scripts/bundle.js).
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {COMMAND_MODULES} from '../dist/bundle/commands.js'
import {main} from '../dist/bundle/entry.js'

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)))
const invokedAs = path.basename(process.argv[1] ?? 'teleport')
process.exitCode = await main({root, invokedAs, argv: process.argv.slice(2), commandModules: COMMAND_MODULES})
