import {Help} from '@oclif/core'
import {versionLine} from '../version.js'

// oclif's help, with the VERSION line in the product's voice rather than the npm package's.
export default class ToolHelp extends Help {
  override formatRoot(): string {
    return super.formatRoot().replace(this.config.userAgent, versionLine())
  }
}
