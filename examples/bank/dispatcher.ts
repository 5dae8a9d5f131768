import * as E from 'fp-ts/lib/Either.js'
import { commitIdFrom, undispatchedMessages } from 'aett/domain'
import type { Commit, CommitStore, Json, ReadError } from 'aett/eventstore'

/** Where a dispatcher stopped and what each delivery gave. */
export interface Dispatched<R> {
  readonly cursor: number
  readonly results: readonly R[]
}

/**
 * A tiny polling dispatcher: reads the global log from checkpoint `from`, and hands every command stored in a
 * commit's `UndispatchedMessage.<n>` headers to `deliver`, until a pass finds no new commit (deliveries may write
 * commits that carry more commands). Each message gets a commit id derived from where it is stored, so that
 * delivering it again (after a crash, or by a second dispatcher) is answered `AlreadyCommitted`, never applied twice.
 */
export const dispatchFrom = async <Err, R>(
  store: CommitStore,
  from: number,
  deliver: (message: Json, commitId: string, commit: Commit) => Promise<E.Either<Err, R>>,
): Promise<E.Either<Err | ReadError, Dispatched<R>>> => {
  let cursor = from
  const results: R[] = []
  for (let seen = true; seen; ) {
    seen = false
    for await (const read of store.getFrom(cursor)) {
      if (E.isLeft(read)) return read
      const commit = read.right
      seen = true
      for (const [n, message] of undispatchedMessages(commit.headers).entries()) {
        const commitId = commitIdFrom(JSON.stringify([commit.tenantId, commit.streamId, commit.commitId, n]))
        const delivered = await deliver(message, commitId, commit)
        if (E.isLeft(delivered)) return delivered
        results.push(delivered.right)
      }
      cursor = commit.checkpointToken
    }
  }
  return E.right({ cursor, results })
}
