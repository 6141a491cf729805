import {Command, Flags} from '@oclif/core'

// Every command derives from this: the global --debug flag, and errors left to the
// entrypoint's single handler (src/lib/cli/handle-error.ts).
export abstract class BaseCommand extends Command {
  static override baseFlags = {
    debug: Flags.boolean({char: 'd', description: 'Verbose logging, and stack traces on errors', helpGroup: 'GLOBAL'}),
  }

  protected override async catch(err: Error & {exitCode?: number}): Promise<never> {
    throw err
  }

  /** Write text to stdout exactly as given (oclif's log adds a newline and formatting). */
  protected out(text: string): void {
    process.stdout.write(text)
  }
}
