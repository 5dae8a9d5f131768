/**
 * Whether PostgreSQL and MySQL/MariaDB answer, for suites that use both servers through the plain drivers: one
 * probe each, loud when a server is down (`serviceAvailable`), a failure under AETT_REQUIRE_SERVICES=1.
 */
import mysql from 'mysql2/promise'
import pg from 'pg'
import { mysqlUrl, pgUrl, serviceAvailable } from './services.js'

/** `label` names the suites in the skip banner, e.g. `bench extras` gives "PostgreSQL (bench extras)". */
export const postgresUp = (label?: string): Promise<boolean> =>
  serviceAvailable(label === undefined ? 'PostgreSQL' : `PostgreSQL (${label})`, async () => {
    const c = new pg.Client({ connectionString: pgUrl, connectionTimeoutMillis: 3000 })
    await c.connect()
    await c.end()
  })

export const mysqlUp = (label?: string): Promise<boolean> =>
  serviceAvailable(label === undefined ? 'MySQL/MariaDB' : `MySQL/MariaDB (${label})`, async () => {
    const c = await mysql.createConnection({ uri: mysqlUrl, connectTimeout: 3000 })
    await c.end()
  })
