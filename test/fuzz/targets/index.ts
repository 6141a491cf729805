import type {FuzzTarget} from '../harness/target.js'
import {AGENT_TARGETS} from './agent.js'
import {AUTH_API_TARGETS} from './auth-api.js'
import {CONFIG_TARGETS} from './config.js'
import {IDENTITY_TARGETS} from './identity-file.js'
import {PREAMBLE_TARGETS} from './preamble.js'
import {PROFILE_TARGETS} from './profile.js'
import {PROXY_ANSWER_TARGETS} from './proxy-answers.js'
import {SCP_TARGETS} from './scp.js'
import {SSHCA_TARGETS} from './sshca.js'
import {SUBSYSTEM_REQUEST_TARGETS} from './subsystem-request.js'
import {TCTL_RESOURCE_TARGETS} from './tctl-resources.js'
import {WEB_API_TARGETS} from './web-api.js'

/** Every fuzz target, for the worker and for `npm run fuzz`. */
export const ALL_TARGETS: FuzzTarget[] = [
  ...SUBSYSTEM_REQUEST_TARGETS,
  ...AUTH_API_TARGETS,
  ...WEB_API_TARGETS,
  ...CONFIG_TARGETS,
  ...TCTL_RESOURCE_TARGETS,
  ...SSHCA_TARGETS,
  ...AGENT_TARGETS,
  ...PROFILE_TARGETS,
  ...PREAMBLE_TARGETS,
  ...IDENTITY_TARGETS,
  ...SCP_TARGETS,
  ...PROXY_ANSWER_TARGETS,
]
