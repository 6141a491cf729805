import {makeVersionCommand} from '../../lib/cli/version-command.js'

export default makeVersionCommand()
