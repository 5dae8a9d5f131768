/**
 * `npm run demo`: a small bank on a SQLite file, end to end. Accounts as a decider and as a class aggregate, a
 * transfer saga whose commands travel with its commits (delivered by a dispatcher, the moves they cause fed back
 * by a router: two subscriptions on the same file), two writers colliding, a snapshot, the global log, and a
 * balances read model kept by a projection in the same file, then rebuilt.
 * Every step that can fail returns a value; the demo prints what went wrong and exits non-zero.
 * It imports the kit by its package name, as your code does; inside this repository the name resolves to `src/`.
 */
import { mkdirSync, rmSync } from 'node:fs'
import { join, relative } from 'node:path'
import { pathToFileURL } from 'node:url'
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { commitIdFrom, undispatchedMessages, type EventStore, type SaveResult } from 'aett/domain'
import { storageError, toArray } from 'aett/eventstore'
import { documentProjection, documentsOf, rebuildDocuments, startProjection } from 'aett/projections'
import { allCaughtUp } from 'aett/sagas'
import { sqliteStore } from 'aett/sqlite'
import { resetSubscription, type SubscribableStore } from 'aett/subscriptions'
import { accountTopics, type AccountCommand, type AccountRefusal } from './bank/account.js'
import { BankAccount } from './bank/BankAccount.js'
import { delivery, type Step } from './bank/delivery.js'
import { metered, type Meter } from './bank/metered.js'
import { TransferRequested, transferSagaId } from './bank/transfer.js'
import { bank, type Bank } from './bank/wiring.js'

/** Any tagged failure: the store's, the repositories', or a refusal of the domain. */
export type Failure = { readonly _tag: string }

export type DemoError =
  | { readonly _tag: 'StepFailed'; readonly step: string; readonly error: Failure }
  | { readonly _tag: 'Unexpected'; readonly step: string; readonly got: string }

const failed = (step: string, error: Failure) => E.left<DemoError>({ _tag: 'StepFailed', step, error })
const unexpected = (step: string, got: unknown) => E.left<DemoError>({ _tag: 'Unexpected', step, got: JSON.stringify(got) })
/** The tag of a result, for messages: an outcome's (`Appended`, ...) or a failure's. */
const tag = (r: E.Either<Failure, unknown>): string =>
  E.isLeft(r) ? r.left._tag : typeof r.right === 'object' && r.right !== null && '_tag' in r.right ? String(r.right._tag) : 'ok'
const appended = (r: { readonly revision: number; readonly checkpoint: number }) => `Appended r${r.revision} token ${r.checkpoint}`
const now = () => new Date().toISOString()

type Raised = readonly E.Either<AccountRefusal, void>[]

/** Saves a class instance once every method called on it agreed (a refusal is a value, like any failure). */
const saveIf = async (classes: Bank['classes'], a: BankAccount, raised: Raised): Promise<E.Either<Failure, SaveResult>> => {
  const all = E.sequenceArray(raised)
  return E.isLeft(all) ? all : classes.either.save(a)
}

/** Loads an account as a class instance, calls its methods, saves. */
const change = async (classes: Bank['classes'], id: string, f: (a: BankAccount) => Raised): Promise<E.Either<Failure, SaveResult>> => {
  const loaded = await classes.either.get(BankAccount, id)
  return E.isLeft(loaded) ? loaded : saveIf(classes, loaded.right, f(loaded.right))
}

const timed = async <A>(f: () => Promise<A>): Promise<readonly [A, number]> => {
  const start = performance.now()
  const a = await f()
  return [a, performance.now() - start]
}

interface Demo {
  readonly bank: Bank
  readonly store: EventStore
  /** The SQLite store itself: the dispatcher and the router keep their checkpoints and leases in its file. */
  readonly subscriptions: SubscribableStore
  readonly meter: Meter
  readonly say: (line: string) => void
  /** One line of the transcript: what was done, what came of it, how long it took. */
  readonly row: (what: string, result: string, took?: number) => void
}

// ----- 1. accounts: a decider through the command handler, and the same rules as a class aggregate -----

async function accounts({ bank: { accounts, classes }, row }: Demo) {
  const handle = async (what: string, command: AccountCommand, commitId?: string) => {
    const [r, took] = await timed(accounts.handle(command.accountId, command, commitId === undefined ? {} : { commitId }))
    const shown = E.isRight(r) ? r.right : r.left
    const result = shown._tag === 'Appended' ? appended(shown) : shown._tag === 'Rejected' ? `Rejected ${JSON.stringify(shown.error)}` : shown._tag
    row(what, result, took)
    return r
  }
  for (const [what, command] of [
    ['open acc-ada (Ada)', { kind: 'open', accountId: 'acc-ada', owner: 'Ada', at: now() }],
    ['deposit 100 to acc-ada', { kind: 'deposit', accountId: 'acc-ada', amount: 100, at: now() }],
    ['withdraw 30 from acc-ada', { kind: 'withdraw', accountId: 'acc-ada', amount: 30, at: now() }],
  ] as const) {
    const r = await handle(what, command)
    if (E.isLeft(r)) return failed(what, r.left)
  }
  const refused = await handle('withdraw 500 from acc-ada', { kind: 'withdraw', accountId: 'acc-ada', amount: 500, at: now() })
  if (E.isRight(refused) || refused.left._tag !== 'Rejected') return unexpected('withdraw 500', tag(refused))
  // A command id gives a stable commit id: handling the same command twice writes once.
  const deposit: AccountCommand = { kind: 'deposit', accountId: 'acc-ada', amount: 5, at: now() }
  const once = await handle('deposit 5 (command cmd-7)', deposit, commitIdFrom('cmd-7'))
  const twice = await handle('the same command cmd-7 again', deposit, commitIdFrom('cmd-7'))
  if (E.isLeft(once) || E.isLeft(twice)) return unexpected('cmd-7', [tag(once), tag(twice)])

  // The class face: methods raise events, the repository saves them; failures stay values through `either`.
  const [bo, took] = await timed(() => change(classes, 'acc-bo', (a) => [a.open('Bo'), a.deposit(50)]))
  if (E.isLeft(bo) || bo.right._tag !== 'Appended') return unexpected('class acc-bo', tag(bo))
  row('class BankAccount acc-bo: open, deposit 50, save', appended(bo.right), took)
  const ada = await classes.either.get(BankAccount, 'acc-ada')
  if (E.isLeft(ada)) return failed('class acc-ada', ada.left)
  row('class BankAccount acc-ada, written by the decider', `balance ${ada.right.balance} at r${ada.right.version}`)
  return E.right({ rejection: refused.left.error._tag, duplicate: tag(twice), classBalance: ada.right.balance })
}

// ----- 2. a transfer saga: a dispatcher delivers its commands, a router feeds it the moves they caused -----

/** A transcript line for what the dispatcher or the router did. */
const stepRow = (s: Step): readonly [string, string] => {
  const o = s.outcome
  const result = o._tag === 'Appended' ? `Appended r${o.revision} token ${o.checkpoint}` : o._tag
  const queued = o.commands === undefined ? '' : o.commands.length === 0 ? ', nothing queued' : `, ${o.commands.map((c) => c.kind)} queued`
  return [`  ${s.kind === 'command' ? 'dispatched' : 'routed'} ${s.what}`, result + queued]
}

/** Runs the dispatcher and the router from `from` until neither has anything left; answers their steps in log order. */
const deliverAll = async (b: Bank, subscriptions: SubscribableStore, from: number): Promise<E.Either<Failure, { readonly at: number; readonly steps: readonly Step[] }>> => {
  const steps: Step[] = []
  const started = delivery(b, subscriptions, from, (step) => steps.push(step))
  if (E.isLeft(started)) return started
  try {
    const at = await allCaughtUp([started.right.dispatcher, started.right.router])
    if (E.isLeft(at)) return at
    // Both subscriptions run at once; in the log's order, each step follows the one that caused it.
    const byToken = [...steps].sort((x, y) => x.token - y.token || x.index - y.index)
    return E.right({ at: at.right, steps: byToken })
  } finally {
    await Promise.all([started.right.dispatcher.stop(), started.right.router.stop()])
  }
}

async function transfer({ bank: b, subscriptions, row }: Demo, from: number) {
  const requested = TransferRequested.create({ id: 't-1', version: 1, timestamp: new Date(), from: 'acc-ada', to: 'acc-bo', amount: 25 })
  const [saga, took] = await timed(b.transfers.handle(transferSagaId('t-1'), requested))
  if (E.isLeft(saga) || saga.right._tag !== 'Appended') return unexpected('request transfer', tag(saga))
  const queued = saga.right.commands.map((c) => c.kind)
  row('TransferRequested t-1: 25 from acc-ada to acc-bo', `saga ${appended(saga.right)}, ${queued} queued in its headers`, took)
  const [run, ran] = await timed(() => deliverAll(b, subscriptions, from))
  if (E.isLeft(run)) return failed('deliver', run.left)
  for (const step of run.right.steps) row(...stepRow(step))
  const state = await b.transfers.load(transferSagaId('t-1'))()
  if (E.isLeft(state)) return failed('load saga', state.left)
  row(`dispatcher and router: caught up at token ${run.right.at}`, `saga ${state.right.state.status} at r${state.right.version}`, ran)
  // At-least-once delivery: both again from the same start (their checkpoints moved back) write nothing twice.
  for (const name of ['bank-dispatcher', 'bank-router']) {
    const reset = await resetSubscription({ store: subscriptions, name, to: { token: from } })
    if (E.isLeft(reset)) return failed(`reset ${name}`, reset.left)
  }
  const again = await deliverAll(b, subscriptions, from)
  if (E.isLeft(again)) return failed('deliver again', again.left)
  const outcomes = (kind: Step['kind']) => again.right.steps.filter((s) => s.kind === kind).map((s) => s.outcome._tag)
  const [redelivered, rerouted] = [outcomes('command'), outcomes('event')]
  const told = new Set([...redelivered, ...rerouted])
  const answers = told.size === 1 ? [...told].join('') : [...redelivered, ...rerouted].join(', ')
  row(`both again, from token ${from} (checkpoints reset)`, `${redelivered.length} commands, ${rerouted.length} events: ${answers}`)
  const [ada, bo] = [await b.accounts.load('acc-ada')(), await b.accounts.load('acc-bo')()]
  if (E.isLeft(ada) || E.isLeft(bo)) return unexpected('balances', [tag(ada), tag(bo)])
  row('balances', `acc-ada ${ada.right.state.balance}, acc-bo ${bo.right.state.balance}`)
  const steps = run.right.steps
  return E.right({
    delivered: steps.filter((s) => s.kind === 'command').length,
    routed: steps.filter((s) => s.kind === 'event').length,
    redelivered,
    rerouted,
    balances: [ada.right.state.balance, bo.right.state.balance],
  })
}

// ----- 3. two writers collide: deposits are rebased and retried, two withdrawals are a real conflict -----

async function collisions({ bank: { classes }, meter, row }: Demo) {
  const load = () => classes.either.get(BankAccount, 'acc-bo')
  const [w1, w2] = [await load(), await load()]
  if (E.isLeft(w1) || E.isLeft(w2)) return unexpected('load writers', [tag(w1), tag(w2)])
  const loadedAt = w2.right.version
  // Both writers change their own copy; writer 1 saves first.
  const first = await saveIf(classes, w1.right, [w1.right.deposit(10), w2.right.deposit(5)])
  if (E.isLeft(first) || first.right._tag !== 'Appended') return unexpected('writer 1', tag(first))
  row(`writers 1 and 2 load acc-bo at r${loadedAt}; 1 deposits 10`, appended(first.right))
  const before = { ...meter }
  const [second, took] = await timed(() => classes.either.save(w2.right))
  if (E.isLeft(second) || second.right._tag !== 'Appended') return unexpected('writer 2', tag(second))
  const attempts = meter.commits - before.commits
  const retried = { loadedAt, landedAt: second.right.revision, attempts, conflicts: meter.conflicts - before.conflicts }
  row('2 deposits 5: conflict; deposits commute, retry', `${attempts} attempts: ${appended(second.right)}, balance ${w2.right.balance}`, took)

  const [w3, w4] = [await load(), await load()]
  if (E.isLeft(w3) || E.isLeft(w4)) return unexpected('load writers', [tag(w3), tag(w4)])
  const third = await saveIf(classes, w3.right, [w3.right.withdraw(20), w4.right.withdraw(30)]) // 3 saves first
  if (E.isLeft(third) || third.right._tag !== 'Appended') return unexpected('writer 3', tag(third))
  row(`writers 3 and 4 load acc-bo at r${w3.right.version - 1}; 3 withdraws 20`, appended(third.right))
  const [fourth, took4] = await timed(() => classes.either.save(w4.right))
  if (E.isRight(fourth) || fourth.left._tag !== 'ConflictDetected') return unexpected('writer 4', tag(fourth))
  const { pending, missed } = fourth.left
  const theirs = missed.flatMap((c) => c.events.map((e) => `${e.body.type} r${c.streamRevision}`))
  row('4 withdraws 30: conflict, reported', `ConflictDetected: pending ${pending.map((e) => e.type)} vs stored ${theirs}`, took4)
  row('  nothing written; writer 4 keeps its change', `${w4.right.uncommittedEvents.length} event pending, balance ${w4.right.balance} as writer 4 saw it`)
  return E.right({ retried, conflict: fourth.left._tag })
}

// ----- 4. a snapshot, and a reload from it that replays only what followed -----

async function snapshots({ bank: { accounts, classes }, store, meter, row }: Demo) {
  const [snapshot, took] = await timed(async () => {
    for (let i = 0; i <= 24; i++) {
      const c: AccountCommand =
        i === 0 ? { kind: 'open', accountId: 'acc-cy', owner: 'Cy', at: now() } : { kind: 'deposit', accountId: 'acc-cy', amount: i, at: now() }
      const r = await accounts.handle('acc-cy', c)()
      if (E.isLeft(r)) return r
    }
    return classes.either.snapshot(BankAccount, 'acc-cy')
  })
  if (E.isLeft(snapshot)) return failed('acc-cy', snapshot.left)
  row('acc-cy: open + 24 deposits (25 commits), snapshot', `snapshot at r${snapshot.right.streamRevision}`, took)
  const saved = await change(classes, 'acc-cy', (a) => [a.deposit(1), a.deposit(2), a.deposit(3)])
  if (E.isLeft(saved) || saved.right._tag !== 'Appended') return unexpected('acc-cy', tag(saved))
  row('3 more deposits, saved in one commit', appended(saved.right))

  // The meter counts the events each load reads from the store.
  const reload = async (what: string, f: () => Promise<E.Either<Failure, BankAccount>>) => {
    const before = meter.eventsRead
    const [r, took] = await timed(f)
    if (E.isLeft(r)) return r
    const events = meter.eventsRead - before
    row(what, `replayed ${events} events: balance ${r.right.balance} at r${r.right.version}`, took)
    return E.right({ events, balance: r.right.balance, version: r.right.version })
  }
  const newest = await store.getSnapshot('default', 'acc-cy')
  if (E.isLeft(newest) || O.isNone(newest.right)) return unexpected('newest snapshot', tag(newest))
  const from = newest.right.value.streamRevision
  const fast = await reload(`reload from the snapshot at r${from}`, () => classes.either.get(BankAccount, 'acc-cy'))
  // Loading "as of now" replays from the first event: snapshots carry no time.
  const full = await reload('reload from the first event, to compare', () => classes.either.getTo(BankAccount, 'acc-cy', new Date()))
  if (E.isLeft(fast) || E.isLeft(full)) return unexpected('reload', [tag(fast), tag(full)])
  const same = fast.right.balance === full.right.balance && fast.right.version === full.right.version
  return E.right({ from, head: saved.right.revision, replayedFromSnapshot: fast.right.events, replayedFull: full.right.events, same })
}

// ----- 5. the global log from a checkpoint -----

async function globalLog({ store, row, say }: Demo, from: number) {
  const [read, took] = await timed(() => toArray(store.getFrom(from)))
  if (E.isLeft(read)) return failed('getFrom', read.left)
  const commits = read.right
  row(`getFrom(${from})`, `${commits.length} commits, up to token ${commits[commits.length - 1]?.checkpointToken}`, took)
  for (const c of commits.slice(0, 6)) {
    const commands = undispatchedMessages(c.headers).length
    const types = c.events.map((e) => e.body.type).join(', ')
    row(`  token ${String(c.checkpointToken).padStart(3)}  ${c.streamId} r${c.streamRevision}`, types + (commands > 0 ? ` + ${commands} command` : ''))
  }
  say(`     … and ${commits.length - 6} more`)
  return E.right({ from, tokens: commits.map((c) => c.checkpointToken) })
}

// ----- 6. a balances read model: a document projection in the same file, exactly once, then rebuilt -----

/** One JSON document per account, kept by the kit in the store's own file; `evolve` is pure. */
const balances = documentProjection({
  name: 'balances',
  topics: accountTopics,
  id: (_event, meta) => meta.commit.streamId,
  evolve: (doc: { owner: string; balance: number } | undefined, event) => {
    if (event.type === 'AccountOpened') return { owner: event.owner, balance: 0 }
    // A move without an opening (the saga's stream holds routed copies of the moves it caused) makes no document.
    if (doc === undefined) return undefined
    return { ...doc, balance: doc.balance + (event.type === 'Deposited' ? event.amount : -event.amount) }
  },
})

async function readModel({ bank: b, subscriptions, row }: Demo) {
  const sqlite = subscriptions as ReturnType<typeof sqliteStore>
  const read = async () => {
    const all = await documentsOf(sqlite, balances).all({ tenantId: 'default' })
    return E.map((docs: readonly { id: string; document: { balance: number } }[]) => Object.fromEntries(docs.map((d) => [d.id, d.document.balance])))(all)
  }
  const [caught, took] = await timed(async (): Promise<E.Either<Failure, unknown>> => {
    const running = startProjection(sqlite, balances)
    if (E.isLeft(running)) return running
    const at = await running.right.caughtUp()
    await running.right.stop()
    return at
  })
  if (E.isLeft(caught)) return failed('project balances', caught.left)
  const projected = await read()
  if (E.isLeft(projected)) return failed('read balances', projected.left)
  const shown = (m: Record<string, number>) => Object.entries(m).map(([id, balance]) => `${id} ${balance}`).join(', ')
  row('projection "balances": caught up from the beginning', shown(projected.right), took)
  // The read model agrees with the streams: every account loaded through its decider has the same balance.
  const loaded: Record<string, number> = {}
  for (const id of Object.keys(projected.right)) {
    const l = await b.accounts.load(id)()
    if (E.isLeft(l)) return failed(`load ${id}`, l.left)
    loaded[id] = l.right.state.balance
  }
  const [rebuilt, rebuildTook] = await timed(() => rebuildDocuments(sqlite, balances, { batchSize: 10 }))
  if (E.isLeft(rebuilt)) return failed('rebuild balances', rebuilt.left)
  const after = await read()
  if (E.isLeft(after)) return failed('read rebuilt balances', after.left)
  row('rebuilt from the log into a shadow, swapped in at once', shown(after.right), rebuildTook)
  return E.right({ projected: projected.right, loaded, rebuilt: after.right })
}

// ----- the story -----

async function story(demo: Demo, file: string, started: number) {
  const { say, store, meter } = demo
  say(`aett demo: a small bank on SQLite (${file}, recreated on every run; WAL, synchronous FULL)`)
  say('\n1. accounts: a decider through the command handler, and the same rules as a class aggregate')
  const one = await accounts(demo)
  if (E.isLeft(one)) return one
  const head = await toArray(store.getFrom(0))
  if (E.isLeft(head)) return failed('checkpoint', head.left)
  const from = head.right[head.right.length - 1]?.checkpointToken ?? 0
  say(`\n2. a transfer saga: a dispatcher delivers its commands, a router feeds it their moves (subscriptions from token ${from})`)
  const two = await transfer(demo, from)
  if (E.isLeft(two)) return two
  say('\n3. two writers collide on acc-bo')
  const three = await collisions(demo)
  if (E.isLeft(three)) return three
  say('\n4. a snapshot and a reload from it')
  const four = await snapshots(demo)
  if (E.isLeft(four)) return four
  say(`\n5. the global log from checkpoint ${from} (the transfer onwards)`)
  const five = await globalLog(demo, from)
  if (E.isLeft(five)) return five
  say('\n6. a balances read model: a document projection in the same file, then rebuilt')
  const six = await readModel(demo)
  if (E.isLeft(six)) return six
  const all = await toArray(store.getFrom(0))
  if (E.isLeft(all)) return failed('totals', all.left)
  const commits = all.right
  const totals = { commits: commits.length, events: commits.reduce((n, c) => n + c.events.length, 0), streams: new Set(commits.map((c) => c.streamId)).size }
  say(
    `\n7. totals: ${totals.commits} commits, ${totals.events} events, ${totals.streams} streams in the file; ` +
      `${meter.commits} commit attempts, ${meter.conflicts} conflicts; ${(performance.now() - started).toFixed(1)} ms in all`,
  )
  return E.right({ ...one.right, transfer: two.right, ...three.right, snapshot: four.right, global: five.right, readModel: six.right, totals })
}

export type DemoFacts = Extract<Awaited<ReturnType<typeof story>>, E.Right<unknown>>['right']

export interface DemoOptions {
  /** Where the database file goes; `./.aett` by default. The file is deleted and recreated on every run. */
  readonly directory?: string
  readonly print?: (line: string) => void
}

export interface DemoTranscript {
  readonly facts: DemoFacts
  readonly lines: readonly string[]
}

/** Runs the demo on a fresh file in `directory`; returns the transcript and its facts, or what went wrong. */
export async function main(options: DemoOptions = {}): Promise<E.Either<DemoError, DemoTranscript>> {
  const started = performance.now()
  const directory = options.directory ?? join(process.cwd(), '.aett')
  const filename = join(directory, 'demo.db')
  try {
    mkdirSync(directory, { recursive: true })
    for (const suffix of ['', '-wal', '-shm']) rmSync(filename + suffix, { force: true })
  } catch (cause) {
    return failed('prepare the directory', storageError(`prepare ${directory}`, cause))
  }
  const sqlite = sqliteStore({ filename })
  const ready = await sqlite.initialize()
  const lines: string[] = []
  const say = (line: string) => {
    lines.push(line)
    ;(options.print ?? console.log)(line)
  }
  const row = (what: string, result: string, took?: number) =>
    say(`   ${what.padEnd(50)} ${result}${took === undefined ? '' : `  (${took.toFixed(1)} ms)`}`)
  const { store, meter } = metered(sqlite)
  const demo = { bank: bank(store), store, subscriptions: sqlite, meter, say, row }
  const shown = relative(process.cwd(), filename).startsWith('..') ? filename : relative(process.cwd(), filename)
  const facts = E.isLeft(ready) ? failed('initialize the store', ready.left) : await story(demo, shown, started)
  await sqlite.close()
  return E.map((f: DemoFacts) => ({ facts: f, lines }))(facts)
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await main()
  if (E.isLeft(result)) {
    console.error(`\ndemo failed: ${JSON.stringify(result.left, null, 2)}`)
    process.exitCode = 1
  }
}
