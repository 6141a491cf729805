import {fuzzSuite} from './harness/suite.js'
import {AGENT_TARGETS} from './targets/agent.js'

fuzzSuite('agent', AGENT_TARGETS, new URL('./targets/agent.ts', import.meta.url))
