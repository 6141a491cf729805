import {makeCompletionCommand} from '../../lib/cli/completion-command.js'

export default makeCompletionCommand()
