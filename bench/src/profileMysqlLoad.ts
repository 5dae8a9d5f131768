/**
 * A small profile of one benchmark row: loading a 10,000-event stream (100 commits of 100 events) on MariaDB/MySQL,
 * aett's decider repository against the raw mysql2 fold of the benchmark, interleaved so that a busy machine
 * weighs on both alike. Run with `node --cpu-prof` (through tsx) to see where aett's time goes:
 *
 *   cd bench && node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx src/profileMysqlLoad.ts
 *
 * AETT_MYSQL_URL names the server (root on 127.0.0.1:3306/test by default); it works in a database of its own,
 * dropped at the end.
 */
import mysql from 'mysql2/promise'
import { mysqlStore } from '../../src/mysql/index.js'
import { seedStream, orThrow } from './aett/contenders.js'
import { aettRepository } from './aett/repository.js'
import { evolveAccount, initialAccount, TENANT } from './domain.js'

const url = process.env['AETT_MYSQL_URL'] ?? 'mysql://root@127.0.0.1:3306/test'
const database = `aett_profile_${process.pid}`
const rounds = Number(process.env['ROUNDS'] ?? 20)
const events = 10_000

const admin = await mysql.createConnection({ uri: url })
await admin.query(`CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`)
const at = new URL(url)
at.pathname = `/${database}`
try {
  const store = mysqlStore({ uri: at.toString(), tablePrefix: 'aett', pageSize: 500 })
  orThrow('initialize', await store.initialize())
  await seedStream(store, 'fold', events, 100)
  const repo = aettRepository(store)
  const pool = mysql.createPool({ uri: at.toString(), connectionLimit: 2 })
  // The raw baseline reads the same rows aett stored, as the benchmark's raw fold reads its own table.
  const rawFold = async (): Promise<void> => {
    const [rows] = await pool.query('SELECT events FROM aett_commits WHERE stream_id = ? AND tenant_id = ? ORDER BY commit_sequence', ['fold', TENANT])
    let s = initialAccount
    for (const row of rows as { events: string }[]) for (const e of JSON.parse(row.events) as { body: { amount: number } }[]) s = evolveAccount(s, e.body)
    if (s.deposits !== events) throw new Error(`raw folded ${s.deposits} events`)
  }
  const aettLoad = repo.load('fold', events)
  const time: Record<string, number> = { aett: 0, raw: 0 }
  for (let i = 0; i < 3; i++) {
    await aettLoad.run(0)
    await rawFold()
  }
  for (let r = 0; r < rounds; r++) {
    let t0 = performance.now()
    await aettLoad.run(r)
    time['aett'] = (time['aett'] ?? 0) + performance.now() - t0
    t0 = performance.now()
    await rawFold()
    time['raw'] = (time['raw'] ?? 0) + performance.now() - t0
  }
  const aett = (time['aett'] ?? 0) / rounds
  const raw = (time['raw'] ?? 0) / rounds
  console.log(`load ${events} events: aett ${aett.toFixed(1)} ms, raw ${raw.toFixed(1)} ms, aett/raw throughput ${(raw / aett).toFixed(2)}x`)
  await pool.end()
  await store.close()
} finally {
  await admin.query(`DROP DATABASE IF EXISTS \`${database}\``)
  await admin.end()
}
