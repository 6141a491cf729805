import {fuzzSuite} from './harness/suite.js'
import {SUBSYSTEM_REQUEST_TARGETS} from './targets/subsystem-request.js'

fuzzSuite('proxy subsystem request', SUBSYSTEM_REQUEST_TARGETS, new URL('./targets/subsystem-request.ts', import.meta.url))
