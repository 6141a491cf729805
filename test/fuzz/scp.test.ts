import {fuzzSuite} from './harness/suite.js'
import {SCP_TARGETS} from './targets/scp.js'

fuzzSuite('scp', SCP_TARGETS, new URL('./targets/scp.ts', import.meta.url))
