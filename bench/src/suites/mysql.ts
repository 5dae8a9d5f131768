import mysql from 'mysql2/promise'
import type { Persistence } from '../../../src/eventstore/ports.js'
import { mysqlStore } from '../../../src/mysql/index.js'
import { orThrow } from '../aett/contenders.js'
import type { Suite } from '../harness/types.js'
import { createRawMysql } from '../raw/mysql.js'
import type { Sizes } from '../sizes.js'
import { uniqueName } from './common.js'
import { standardScenarios } from './standard.js'

export const mysqlUrl = process.env['AETT_MYSQL_URL'] ?? 'mysql://root@127.0.0.1:3306/test'

const withDatabase = (url: string, database: string): string => {
  const u = new URL(url)
  u.pathname = `/${database}`
  return u.toString()
}

/** MySQL/MariaDB: a fresh database per run for aett and the raw baseline, dropped at the end. Emmett has no MySQL store. */
export const mysqlSuite = (sizes: Sizes): Suite => {
  const database = uniqueName('aett_bench')
  let admin: mysql.Connection | undefined
  let created = false
  let aett: Persistence | undefined
  let rawPool: mysql.Pool | undefined
  const notes: string[] = []
  return {
    id: 'mysql',
    title: 'MySQL/MariaDB',
    notes,
    open: async () => {
      try {
        admin = await mysql.createConnection({ uri: process.env['AETT_MYSQL_URL'] ?? 'mysql://root@127.0.0.1:3306/test', connectTimeout: 3000 })
      } catch (e) {
        return { skipped: `MySQL/MariaDB unreachable at ${mysqlUrl}: ${e instanceof Error ? e.message : String(e)}` }
      }
      const [rows] = await admin.query('SELECT VERSION() AS version, @@innodb_flush_log_at_trx_commit AS flush')
      const s = (rows as { version: string; flush: number }[])[0]
      await admin.query(`CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`)
      created = true
      notes.push(
        `${s?.version ?? '?'} on the same machine (loopback TCP), innodb_flush_log_at_trx_commit=${s?.flush ?? '?'} for both; a fresh database per run.`,
        'aett: `aett/mysql` (its own mysql2 pool; a lone append is one call of its stored procedure, group commit on as by default). raw: a mysql2 pool, one `INSERT` per append ' +
          'with an auto-increment checkpoint: the driver\'s limit, without the commit-order checkpoint counter that aett needs for gap-free global reads.',
      )
      const url = withDatabase(mysqlUrl, database)
      aett = mysqlStore({ uri: url, tablePrefix: 'aett', pageSize: sizes.pageSize })
      orThrow('initialize aett mysql', await aett.initialize())
      rawPool = mysql.createPool({ uri: url, connectionLimit: 10 })
      const raw = await createRawMysql(rawPool)
      return {
        scenarios: standardScenarios({
          id: 'mysql',
          label: 'MariaDB',
          shortLabel: 'MariaDB',
          sizes,
          aett,
          emmett: 'Emmett has no MySQL store',
          raw,
          reads: true,
        }),
      }
    },
    close: async () => {
      await aett?.close()
      await rawPool?.end()
      if (admin !== undefined) {
        if (created) await admin.query(`DROP DATABASE IF EXISTS \`${database}\``)
        await admin.end()
      }
    },
  }
}
