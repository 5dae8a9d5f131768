import * as E from 'fp-ts/lib/Either.js'
import type * as t from 'io-ts'
import type { Commit } from '../eventstore/Commit.js'
import { toIssues } from '../eventstore/codec/report.js'
import { decodeError, invalidArgument, type InvalidArgument } from '../eventstore/errors.js'
import { commitIdFrom } from '../domain/commitId.js'
import { replayParked } from '../subscriptions/manage.js'
import type { BatchContext } from '../subscriptions/options.js'
import type { ReplayError } from '../subscriptions/errors.js'
import type { ReplayReport } from '../subscriptions/parking.js'
import { subscribe, type Subscription } from '../subscriptions/subscribe.js'
import { answered, isObject, preparedOnce, runProblem, subscriptionOptions, type RunOptions } from './common.js'
import type { CommandDecodeFailed, CommandFailed, DispatchError } from './errors.js'
import { commandKey, storedCommands } from './keys.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** One command of a saga's commit, decoded, as the dispatcher hands it to the handler. */
export interface Command<C> {
  readonly command: C
  /**
   * The command's idempotency key (`commandKey`): tenant, stream, commit sequence and index. Unique across the
   * store and the same on every redelivery.
   */
  readonly key: string
  /** `commitIdFrom(key)`: handle the command through a repository under this commit id, and a redelivery is `AlreadyCommitted`. */
  readonly commitId: string
  /** The command's `n` in `UndispatchedMessage.<n>`. */
  readonly index: number
  /** The saga's commit that carries it. */
  readonly commit: Commit
}

/**
 * Delivers one command. A `Left` (or a throw) is retried with the subscription's back-off, then parks the commit
 * (default) or stops the dispatcher. The `Right`'s value is not used.
 */
export type CommandHandler<C, E> = (command: Command<C>, context: BatchContext) => Promise<E.Either<E, unknown>>

export interface DispatcherOptions<C, E> extends RunOptions {
  /** The codec of the commands (a saga's `C`): the stored JSON of each is decoded by it. */
  readonly commands: t.Decoder<unknown, C>
  readonly handler: CommandHandler<C, E>
}

/** A running dispatcher: the subscription's handle (`caughtUp`, `status`, `stop`, `replayParked`). */
export type Dispatcher<E> = Subscription<DispatchError<E>>

// -------------------------------------------------------------------------------------
// dispatching
// -------------------------------------------------------------------------------------

/** The commands of a commit, decoded, or the first one that does not decode. */
const commandsOf =
  <C>(codec: t.Decoder<unknown, C>) =>
  (commit: Commit): E.Either<CommandDecodeFailed, Command<C>[]> => {
    const out: Command<C>[] = []
    for (const { index, message } of storedCommands(commit.headers)) {
      const key = commandKey(commit, index)
      const decoded = codec.decode(message)
      if (E.isLeft(decoded)) {
        const at = { key, index, tenantId: commit.tenantId, streamId: commit.streamId, commitSequence: commit.commitSequence, checkpointToken: commit.checkpointToken }
        return E.left({ _tag: 'CommandDecodeFailed', ...at, error: decodeError(codec.name, toIssues(decoded.left)) })
      }
      out.push({ command: decoded.right, key, commitId: commitIdFrom(key), index, commit })
    }
    return E.right(out)
  }

/** The pieces a dispatcher's subscription (and a replay of its parked commits) runs with. */
const parts = <C, E>(options: DispatcherOptions<C, E>) => {
  // The source's filter decodes each commit's commands once; the handler is then given the same commit object.
  const { select, of } = preparedOnce(commandsOf(options.commands))
  const handler = async (batch: readonly Commit[], context: BatchContext): Promise<E.Either<DispatchError<E>, void>> => {
    // One command at a time in token order, so each saga's commands go in their order. The whole batch is handled
    // even when `context.signal` aborts: a stop waits for the batch in hand, and a lost lease ignores the answer.
    for (const commit of batch) {
      const commands = of(commit)
      if (E.isLeft(commands)) return commands
      for (const c of commands.right) {
        const r = answered('handler', await options.handler(c, context))
        if (E.isLeft(r)) {
          const failed: CommandFailed<E> = {
            _tag: 'CommandFailed',
            key: c.key,
            index: c.index,
            tenantId: commit.tenantId,
            streamId: commit.streamId,
            commitSequence: commit.commitSequence,
            checkpointToken: commit.checkpointToken,
            error: r.left,
          }
          return E.left(failed)
        }
      }
    }
    return E.right(undefined)
  }
  return { ...subscriptionOptions(options, ['commands', 'handler'], select), handler }
}

const problem = (options: unknown): string | undefined => {
  const run = runProblem(options)
  if (run !== undefined) return run
  const o = options as Record<string, unknown>
  if (!isObject(o['commands']) && typeof o['commands'] !== 'function') return 'commands must be an io-ts codec'
  if (typeof (o['commands'] as { decode?: unknown }).decode !== 'function') return 'commands must be an io-ts codec'
  if (typeof o['handler'] !== 'function') return 'handler must be a function'
  return undefined
}

/**
 * Starts a dispatcher: a subscription (named `options.name`) that delivers the commands stored in sagas' commits
 * (`UndispatchedMessage.<n>`, SEMANTICS 21) to `handler`, decoded by `commands`, one at a time, in token order (so
 * each saga's commands in their order), at least once. "Delivered" is the dispatcher's checkpoint, fenced by its
 * lease: it moves after a batch's commands were all handled; no command is marked one by one. Each command carries
 * a key unique across the store; handled through a repository under `commitIdFrom(key)` (`command.commitId`), a
 * redelivery is `AlreadyCommitted`: exactly once in effect. See docs/sagas.md.
 */
export const dispatchCommands = <C, E = never>(options: DispatcherOptions<C, E>): E.Either<InvalidArgument, Dispatcher<E>> => {
  const bad = problem(options)
  if (bad !== undefined) return E.left(invalidArgument('dispatchCommands', bad))
  return subscribe<DispatchError<E>>(parts(options))
}

/**
 * Replays the dispatcher's parked commits (those of `tokens`, or all) while no instance of it runs, through the
 * same decoding and handler: once the cause is fixed (a codec that reads the old commands, a target that accepts
 * them). Each parked commit is tried once (`retry` is not the running dispatcher's). A running dispatcher replays
 * through its handle's `replayParked`.
 */
export const replayParkedCommands = async <C, E = never>(
  options: DispatcherOptions<C, E> & { readonly tokens?: readonly number[] },
): Promise<E.Either<ReplayError, ReplayReport<DispatchError<E>>>> => {
  const bad = problem(options)
  if (bad !== undefined) return E.left(invalidArgument('replayParkedCommands', bad))
  const p = parts(options)
  return replayParked<DispatchError<E>>({
    store: p.store,
    name: p.name,
    source: p.source ?? {},
    handler: p.handler,
    ...(options.tokens === undefined ? {} : { tokens: options.tokens }),
    ...(options.parkStreamAfterFailure === undefined ? {} : { parkStreamAfterFailure: options.parkStreamAfterFailure }),
    ...(options.leaseTtlMs === undefined ? {} : { leaseTtlMs: options.leaseTtlMs }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  })
}
