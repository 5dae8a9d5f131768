#!/usr/bin/env node
/**
 * `aett`: the command line of the kit. Looks into a store (streams, tenants, show, tail), moves data (export,
 * import), replays an aggregate to a version, checks that every stored event decodes, manages subscriptions and
 * creates or migrates schemas. The store is named by a URL (see `aett --help`). Read verbs write nothing and never
 * migrate.
 */
import { CommanderError } from 'commander'
import { CliError } from './errors.js'
import { program } from './program.js'

/** Runs the command line; answers the exit code. Every failure is one line on stderr. */
export const main = async (argv: readonly string[]): Promise<number> => {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    // `aett export | head`: the reader left; that is not a failure.
    if (e.code === 'EPIPE') process.exit(0)
  })
  try {
    await program().parseAsync([...argv], { from: 'user' })
    return 0
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version exit 0; every other parse error is a usage error (commander printed it already).
      return e.exitCode === 0 ? 0 : 2
    }
    if (e instanceof CliError) {
      process.stderr.write(`aett: ${e.message}\n`)
      return e.exitCode
    }
    process.stderr.write(`aett: unexpected failure: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`)
    return 1
  }
}

const code = await main(process.argv.slice(2))
// Leave once stdout has drained (a pipe is written asynchronously): nothing a store or a driver left behind keeps
// the process alive, and no output is cut off.
process.stdout.write('', () => process.exit(code))
