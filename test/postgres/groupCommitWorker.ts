/**
 * The child of the PostgreSQL group-commit SIGKILL test (see test/support/killedWriters.ts). Usage:
 *   node --import tsx test/postgres/groupCommitWorker.ts <schema> <ack file> <streams>
 */
import * as E from 'fp-ts/lib/Either.js'
import { postgresStore } from '../../src/postgres/index.js'
import { appendForever } from '../support/killedWriters.js'
import { pgUrl } from '../support/services.js'

const [schema, ackFile, streams] = process.argv.slice(2) as [string, string, string]
const store = postgresStore({ connectionString: pgUrl, schema, poolSize: 4, groupCommit: { maxBatch: 64 } })
const init = await store.initialize()
if (E.isLeft(init)) {
  process.stderr.write(`${init.left.message}\n`)
  process.exit(1)
}
await appendForever(store, Number(streams), ackFile)
