/**
 * Where a single-event append's time goes on MariaDB/MySQL (issue 17: "the counter row that serialises appends is
 * today's price; find a cheaper way, or show the profile"). One writer, 1,000 sequential appends per variant per
 * round, variants interleaved, each in a scratch database dropped at the end:
 *
 *   insert          a plain prepared INSERT of aett's row into a copy of its commits table (autocommit)
 *   routine-insert  a stored routine with only START TRANSACTION, that INSERT (token from MAX + 1, no counter), COMMIT
 *   + counter       the same with the counter row's bump first (the lock that orders tokens)
 *   + head read     the same with the head read (no duplicate check)
 *   aett routine    the store's append routine as shipped (+ the duplicate check, the answer row)
 *   store.commit    the whole path through `aett/mysql` (validation, keys, the CALL, the answer), group commit off
 *
 *   cd bench && ../node_modules/.bin/tsx src/profileMysqlAppend.ts
 */
import mysql from 'mysql2/promise'
import { mysqlStore } from '../../src/mysql/index.js'
import { appendParameters } from '../../src/mysql/rows.js'
import { mysqlNames } from '../../src/mysql/schema.js'
import { eventsJson } from './raw/commitRows.js'

const url = process.env['AETT_MYSQL_URL'] ?? 'mysql://root@127.0.0.1:3306/test'
const database = `aett_profile_${process.pid}`
const rounds = Number(process.env['ROUNDS'] ?? 5)
const appends = 1000

const admin = await mysql.createConnection({ uri: url })
await admin.query(`CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`)
const u = new URL(url)
u.pathname = `/${database}`
const store = mysqlStore({ uri: u.toString(), tablePrefix: 'aett', groupCommit: false })
const pool = mysql.createPool({ uri: u.toString(), connectionLimit: 2, charset: 'utf8mb4_bin', supportBigNumbers: true })
try {
  const init = await store.initialize()
  if (init._tag === 'Left') throw new Error(init.left.message)
  const n = mysqlNames('aett')
  await pool.query(`CREATE TABLE plain_commits LIKE ${n.commits}`)
  const text = 'LONGTEXT CHARACTER SET utf8mb4'
  const routine = (name: string, body: string) => `CREATE PROCEDURE ${name}(
    IN p_tenant_key BINARY(32), IN p_stream_key BINARY(32), IN p_commit_key BINARY(32),
    IN p_tenant_id ${text}, IN p_stream_id ${text}, IN p_commit_id ${text},
    IN p_sequence BIGINT, IN p_revision BIGINT, IN p_first BIGINT, IN p_stamp BIGINT, IN p_headers ${text}, IN p_events ${text})
  MODIFIES SQL DATA
  BEGIN
    DECLARE v_token BIGINT DEFAULT NULL;
    DECLARE v_sequence BIGINT DEFAULT 0;
    DECLARE v_revision BIGINT DEFAULT 0;
    DECLARE CONTINUE HANDLER FOR NOT FOUND BEGIN END;
    DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN ROLLBACK; RESIGNAL; END;
    START TRANSACTION;
    ${body}
    INSERT INTO ${n.commits} (checkpoint_token, tenant_key, stream_key, commit_key, tenant_id, stream_id, commit_id,
      commit_sequence, stream_revision, first_revision, commit_stamp, headers, events)
    VALUES (v_token, p_tenant_key, p_stream_key, p_commit_key, p_tenant_id, p_stream_id, p_commit_id,
      p_sequence, p_revision, p_first, p_stamp, p_headers, p_events);
    COMMIT;
    SELECT v_token AS checkpoint_token;
  END`
  // Tokens of the variant without the counter start far above the counter's, so that the variants never collide.
  const noCounter = `SELECT GREATEST(COALESCE(MAX(checkpoint_token), 0), 1000000000) + 1 INTO v_token FROM ${n.commits};`
  const counter = `UPDATE ${n.checkpoint} SET value = LAST_INSERT_ID(value + 1) WHERE id = 1; SET v_token = LAST_INSERT_ID();`
  const head = `SELECT commit_sequence, stream_revision INTO v_sequence, v_revision FROM ${n.commits}
    WHERE stream_key = p_stream_key ORDER BY commit_sequence DESC LIMIT 1;`
  await pool.query(routine('profile_insert', noCounter))
  await pool.query(routine('profile_counter', counter))
  await pool.query(routine('profile_head', `${counter} ${head}`))

  let plainToken = 0
  let stream = 0
  const values = (s: string, i: number) =>
    appendParameters({
      tenantId: 'bench', streamId: s, streamRevision: i, commitId: crypto.randomUUID(), commitSequence: i, commitStamp: new Date(), headers: {},
      events: JSON.parse(eventsJson(s, i, 1)) as never,
    }).map((v) => (typeof v === 'number' ? BigInt(v) : v)) as mysql.ExecuteValues[]
  const call = (name: string) => async (s: string, i: number) => void (await pool.execute(`CALL ${name}(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, values(s, i)))
  const variants: Record<string, (s: string, i: number) => Promise<void>> = {
    insert: async (s, i) =>
      void (await pool.execute(
        `INSERT INTO plain_commits (checkpoint_token, tenant_key, stream_key, commit_key, tenant_id, stream_id, commit_id, commit_sequence,
          stream_revision, first_revision, commit_stamp, headers, events) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [BigInt(++plainToken), ...values(s, i)],
      )),
    'routine-insert': call('profile_insert'),
    '+ counter': call('profile_counter'),
    '+ head read': call('profile_head'),
    'aett routine': call('aett_append'),
    'store.commit': async (s, i) => {
      const r = await store.commit({ tenantId: 'bench', streamId: s, streamRevision: i, commitId: crypto.randomUUID(), commitSequence: i, commitStamp: new Date(), headers: {}, events: JSON.parse(eventsJson(s, i, 1)) as never })
      if (r._tag === 'Left') throw new Error(r.left._tag)
    },
  }
  const rates = new Map<string, number[]>()
  for (let round = 0; round <= rounds; round++)
    for (const [name, append] of Object.entries(variants)) {
      const s = `s${stream++}`
      const t0 = performance.now()
      for (let i = 1; i <= appends; i++) await append(s, i)
      // round 0 warms up
      if (round > 0) rates.set(name, [...(rates.get(name) ?? []), (appends / (performance.now() - t0)) * 1000])
    }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number
  const base = median(rates.get('insert') ?? [])
  console.log(`single-event appends/s, one writer, ${rounds} rounds of ${appends}: median (min..max), and median per append in ms`)
  for (const [name, xs] of rates)
    console.log(`${name.padEnd(16)} ${median(xs).toFixed(0).padStart(6)}/s (${Math.min(...xs).toFixed(0)}..${Math.max(...xs).toFixed(0)})  ${(1000 / median(xs)).toFixed(3)} ms  ${(median(xs) / base).toFixed(2)}x insert`)
} finally {
  await store.close()
  await pool.end()
  await admin.query(`DROP DATABASE \`${database}\``)
  await admin.end()
}
