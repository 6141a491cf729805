import {fuzzSuite} from './harness/suite.js'
import {CONFIG_TARGETS} from './targets/config.js'

fuzzSuite('teleport.yaml', CONFIG_TARGETS, new URL('./targets/config.ts', import.meta.url))
