/**
 * The child of the MySQL group-commit SIGKILL test (see test/support/killedWriters.ts). Usage:
 *   node --import tsx test/mysql/groupCommitWorker.ts <table prefix> <ack file> <streams>
 */
import * as E from 'fp-ts/lib/Either.js'
import { mysqlStore } from '../../src/mysql/index.js'
import { appendForever } from '../support/killedWriters.js'
import { mysqlUrl } from '../support/services.js'

const [tablePrefix, ackFile, streams] = process.argv.slice(2) as [string, string, string]
const store = mysqlStore({ uri: mysqlUrl, tablePrefix, connectionLimit: 4, groupCommit: { maxBatch: 64 } })
const init = await store.initialize()
if (E.isLeft(init)) {
  process.stderr.write(`${init.left.message}\n`)
  process.exit(1)
}
await appendForever(store, Number(streams), ackFile)
