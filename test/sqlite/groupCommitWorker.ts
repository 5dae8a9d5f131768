/**
 * The child of the group-commit SIGKILL test. Usage:
 *   node --import tsx test/sqlite/groupCommitWorker.ts <file> <ack file> <streams>
 * Continues every stream from its stored head, forever, submitting one commit per stream in each turn (so that
 * they are written as one batch), and appends `<commit id> <token>` to the ack file (synchronously) after each
 * commit is acknowledged. Prints `ready` once it starts appending. Commit `k` of a stream holds `1 + k % 3`
 * events whose bodies say `k` and their index, so that the parent can tell a whole commit from a torn one.
 */
import { appendFileSync } from 'node:fs'
import * as E from 'fp-ts/lib/Either.js'
import { sqliteStore } from '../../src/sqlite/index.js'

const [filename, ackFile, streamsArg] = process.argv.slice(2) as [string, string, string]
const streams = Number(streamsArg)

const fail = (what: string): never => {
  process.stderr.write(`${what}\n`)
  process.exit(1)
}

const main = async () => {
  const store = sqliteStore({ filename, synchronous: 'FULL', groupCommit: { maxBatch: 64 }, busyRetries: 20 })
  const init = await store.initialize()
  if (E.isLeft(init)) return fail(init.left.message)
  const heads = new Map<string, { seq: number; rev: number }>()
  for await (const r of store.getFrom(0)) {
    if (E.isLeft(r)) return fail(r.left.message)
    heads.set(r.right.streamId, { seq: r.right.commitSequence, rev: r.right.streamRevision })
  }
  process.stdout.write('ready\n')
  for (;;) {
    await Promise.all(
      Array.from({ length: streams }, async (_, s) => {
        const streamId = `s${s}`
        const head = heads.get(streamId) ?? { seq: 0, rev: 0 }
        const k = head.seq + 1
        const events = 1 + (k % 3)
        const r = await store.commit({
          tenantId: 'kill',
          streamId,
          commitSequence: k,
          streamRevision: head.rev + events,
          commitId: `${streamId}-${k}`,
          commitStamp: new Date(),
          headers: {},
          events: Array.from({ length: events }, (_, i) => ({ headers: {}, body: { type: 'Happened', k, i } })),
        })
        if (E.isLeft(r)) return fail(`${streamId}-${k}: ${r.left._tag} ${'message' in r.left ? String(r.left.message) : ''}`)
        appendFileSync(ackFile, `${r.right.commitId} ${r.right.checkpointToken}\n`)
        heads.set(streamId, { seq: k, rev: r.right.streamRevision })
      }),
    )
  }
}

await main()
