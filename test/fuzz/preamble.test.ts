import {fuzzSuite} from './harness/suite.js'
import {PREAMBLE_TARGETS} from './targets/preamble.js'

fuzzSuite('preamble', PREAMBLE_TARGETS, new URL('./targets/preamble.ts', import.meta.url))
