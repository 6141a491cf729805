import {fuzzSuite} from './harness/suite.js'
import {TCTL_RESOURCE_TARGETS} from './targets/tctl-resources.js'

fuzzSuite('tctl create resources', TCTL_RESOURCE_TARGETS, new URL('./targets/tctl-resources.ts', import.meta.url))
