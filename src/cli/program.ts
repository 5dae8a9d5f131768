/**
 * The verbs of `aett` and their options (commander). Each verb's module is imported only when it runs, so that a
 * command loads only the store module (and driver) it needs.
 */
import { Command, Option } from 'commander'
import { readFileSync } from 'node:fs'
import { urlForms } from './url.js'

const version = (): string => {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version
  } catch {
    return 'unknown'
  }
}

const storeOption = (c: Command): Command =>
  c.option('-s, --store <url>', 'the store (default: $AETT_STORE, or `store` of aett.config)').option('-c, --config <file>', 'the configuration module (default: ./aett.config.{ts,mts,mjs,js,cjs})')
const jsonOption = (c: Command, what = 'one JSON object per line, for machines'): Command => c.option('--json', what)
const progressOption = (c: Command): Command => c.option('--no-progress', 'no progress bar (it is shown only when stderr is a terminal)')

type Action = (...args: never[]) => Promise<unknown>
/** commander hands an action its arguments, then the options, then the command; the verbs take arguments and options. */
const verb =
  <F extends Action>(load: () => Promise<F>, arity: number) =>
  async (...args: unknown[]): Promise<void> => {
    await (await load())(...(args.slice(0, arity + 1) as never[]))
  }

export const program = (): Command => {
  const p = new Command('aett')
  p.description(`Look into and operate an aett event store.\n\nStores are named by URL: ${urlForms}.`)
    .version(version(), '-V, --version')
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(`aett: ${text.trim().replace(/^error: /, '')} (see --help)\n`) })
    .addHelpText(
      'after',
      '\nRead verbs (streams, tenants, show, tail, export, replay, check, subscriptions status/parked) write nothing and never migrate.\nExit codes: 0 done, 1 failed (store, stream, check), 2 usage, 130 interrupted.',
    )

  jsonOption(storeOption(p.command('streams').description('list streams with their head revision, sequence and last commit time')))
    .option('-t, --tenant <id>', 'only this tenant (default: every tenant)')
    .action(verb(async () => (await import('./verbs/read.js')).streams, 0))

  jsonOption(storeOption(p.command('tenants').description('list the tenants that hold at least one commit'))).action(verb(async () => (await import('./verbs/read.js')).tenants, 0))

  jsonOption(storeOption(p.command('show').description("show a stream's commits and events").argument('<stream>', 'the stream id')), 'one commit per line, as export writes them')
    .option('-t, --tenant <id>', 'the tenant', 'default')
    .option('--from-revision <n>', 'from the commit holding this revision')
    .option('--to-revision <n>', 'to the commit holding this revision')
    .option('--full', 'do not shorten long bodies')
    .action(verb(async () => (await import('./verbs/read.js')).show, 1))

  jsonOption(storeOption(p.command('tail').description('the newest commits, then (with --follow) every new one; polls, writes nothing')), 'one commit per line, as export writes them')
    .option('--from <token>', 'the commits after this checkpoint token (instead of the last ones)')
    .option('-n, --last <n>', 'how many of the newest commits to show first', '10')
    .option('-f, --follow', 'keep polling for new commits until interrupted')
    .option('--interval <ms>', 'poll interval of --follow', '1000')
    .option('-t, --tenant <id>', "only this tenant's commits")
    .action(verb(async () => (await import('./verbs/read.js')).tail, 0))

  progressOption(storeOption(p.command('export').description('write the log as NDJSON (one commit per line, in checkpoint order)')))
    .option('-o, --out <file>', 'the file to write (default: stdout)')
    .option('--from <token>', 'only commits after this checkpoint token (to continue an export)')
    .option('--resume', 'continue the export in --out after its last whole line')
    .option('--force', 'overwrite --out if it exists')
    .option('-t, --tenant <id>', "only this tenant's commits")
    .action(verb(async () => (await import('./verbs/data.js')).exportVerb, 0))

  progressOption(storeOption(p.command('import').description('append the commits of an export; commits already present are skipped, so it resumes').argument('[file]', 'the export (default: stdin)')))
    .option('--init', 'create the schema first')
    .action(verb(async () => (await import('./verbs/data.js')).importVerb, 1))

  jsonOption(storeOption(p.command('replay').description('the state of a stream at a version or time, through a repository of aett.config').argument('<stream>', 'the stream id')))
    .option('--to <version|time>', 'a version (revision) or an ISO-8601 time (default: the head)')
    .option('--diff [version|time]', 'what changed from this version (default: the one before --to) to --to')
    .option('-r, --repository <name>', 'which repository of aett.config (needed when it has several)')
    .option('-t, --tenant <id>', 'the tenant', 'default')
    .option('--no-snapshots', 'fold every event from the start, ignoring stored snapshots')
    .action(verb(async () => (await import('./verbs/replay.js')).replay, 1))

  progressOption(jsonOption(storeOption(p.command('check').description("decode every stored event through aett.config's topics (the history check); exit 1 if any fails")), 'the report as JSON'))
    .option('-t, --tenant <id>', "only this tenant's commits")
    .option('--examples <n>', 'failures listed per topic', '10')
    .action(verb(async () => (await import('./verbs/check.js')).check, 0))

  const subs = p.command('subscriptions').description('status and lag of subscriptions, reset, parked commits')
  jsonOption(storeOption(subs.command('status', { isDefault: true }).description('checkpoint, lag, lease and parked count (read only)').argument('[names...]', 'subscription names (default: those of aett.config)')))
    .action(verb(async () => (await import('./verbs/subscriptions.js')).status, 1))
  storeOption(subs.command('reset').description("move a subscription's checkpoint (it must not be running)").argument('<name>'))
    .requiredOption('--to <beginning|end|token|time>', 'where the subscription goes on from')
    .option('-t, --tenant <id>', 'scope end/time to this tenant')
    .action(verb(async () => (await import('./verbs/subscriptions.js')).reset, 1))
  jsonOption(storeOption(subs.command('parked').description('the commits a subscription parked, with why (read only)').argument('<name>')))
    .action(verb(async () => (await import('./verbs/subscriptions.js')).parked, 1))
  storeOption(subs.command('replay-parked').description("hand parked commits to the subscription's handler again (from aett.config)").argument('<name>'))
    .addOption(new Option('--token <token...>', 'only these parked tokens'))
    .action(verb(async () => (await import('./verbs/subscriptions.js')).replayParkedVerb, 1))

  storeOption(p.command('init').description("create the store's schema (a SQLite file too); safe to run again")).action(verb(async () => (await import('./verbs/schema.js')).init, 0))
  storeOption(p.command('migrate').description('bring an older schema up to date; never touches stored data')).action(verb(async () => (await import('./verbs/schema.js')).migrate, 0))
  return p
}

