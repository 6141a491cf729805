#!/usr/bin/env node
'use strict'
// The one entrypoint for tsh, tctl and teleport (and ssh/scp when linked under those names).
// It loads the bundle that npm run build writes (scripts/bundle.js) through its loader. CommonJS
// (bin/package.json), as the bundle is: a start that imports no ES module never sets Node's ES
// module loader going.
const path = require('node:path')

const invokedAs = path.basename(process.argv[1] ?? 'teleport')
// A client command ends in a second: WebAssembly's optimizing tier (undici's HTTP parser is
// wasm) would compile in the background and hold the exit for a quarter of a second more.
if (invokedAs !== 'teleport') require('node:v8').setFlagsFromString('--liftoff-only')

const {load} = require('../dist/bundle/load.cjs')

const {COMMAND_MODULES, ARGV_HOOKS} = load('commands.js')
const {main} = load('entry.js')
const root = path.dirname(__dirname)
main({root, invokedAs, argv: process.argv.slice(2), commandModules: COMMAND_MODULES, argvHooks: ARGV_HOOKS}).then((code) => {
  process.exitCode = code
})
