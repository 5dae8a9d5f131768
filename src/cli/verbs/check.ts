import * as E from 'fp-ts/lib/Either.js'
import { checkHistory, type HistoryReport } from '../../eventstore/codec/historyCheck.js'
import { print, storeUrl, streamingTable, withStore, type StoreOptions } from '../common.js'
import { requireConfig } from '../config.js'
import { CliError, storeFailure, usage } from '../errors.js'
import type { OpenedStore } from '../open.js'
import { progress } from '../progress.js'

/** The number of events stored (of one tenant, or of all): the sum of the stream heads, one read per stream. */
const countEvents = async (opened: OpenedStore, tenantId: string | undefined): Promise<number> => {
  const tenants: string[] = []
  if (tenantId !== undefined) tenants.push(tenantId)
  else
    for await (const t of opened.store.listTenants()) {
      if (E.isLeft(t)) throw storeFailure(opened.kind, opened.label, t.left)
      tenants.push(t.right)
    }
  let total = 0
  for (const t of tenants)
    for await (const s of opened.store.listStreams(t)) {
      if (E.isLeft(s)) throw storeFailure(opened.kind, opened.label, s.left)
      total += s.right.headRevision
    }
  return total
}

const printReport = async (report: HistoryReport): Promise<void> => {
  const table = streamingTable(['TOPIC', 'READ AS', 'DECODED', 'FAILED', 'VERSIONS (decoded/failed)'])
  for (const t of Object.values(report.topics)) {
    const versions = Object.entries(t.versions)
      .map(([v, n]) => `v${v} ${n.decoded}/${n.failed}`)
      .join(', ')
    await table.row([t.topic, t.currentTopic ?? '(unknown topic)', String(t.decoded), String(t.failed), versions])
  }
  await table.end()
  for (const t of Object.values(report.topics)) {
    for (const f of t.examples) {
      const why = f.error._tag === 'UnknownTopic' ? `no codec for topic ${f.topic}` : `${f.paths.join(', ') || f.error.message}`
      await print(
        `  ${f.tenantId}/${f.streamId} revision ${f.streamRevision} (commit ${f.commitId}, token ${f.checkpointToken}): ${f.topic} v${f.version}: ${why}`,
      )
    }
  }
}

/**
 * `aett check`: the history check: every stored event (of one tenant, or all) is decoded through the configuration's
 * topic map, as every read of the kit would. Exit code 1 when any event does not decode.
 */
export const check = (options: StoreOptions & { readonly tenant?: string; readonly json?: boolean; readonly progress: boolean; readonly examples: string }) =>
  (async () => {
    const config = await requireConfig(options.config, 'check')
    if (config.topics === undefined) throw usage(`${config.path} exports no \`topics\`: check decodes every stored event through it`)
    const topics = config.topics
    await storeUrl(options, config)
    const examples = Number(options.examples)
    if (!Number.isSafeInteger(examples) || examples < 0) throw usage(`--examples must be a whole number, got ${JSON.stringify(options.examples)}`)
    return withStore(
      options,
      'read',
      async (opened) => {
        const total = options.progress && process.stderr.isTTY === true ? await countEvents(opened, options.tenant) : undefined
        const bar = await progress({ enabled: options.progress, unit: 'events', total, title: 'check' })
        const report = await checkHistory(opened.store, topics, {
          ...(options.tenant === undefined ? {} : { tenantId: options.tenant }),
          countTotal: false,
          progressEvery: 1000,
          examples,
          onProgress: (p) => bar.update(p.events, p.events),
        })
        if (E.isLeft(report)) {
          bar.stop()
          throw storeFailure(opened.kind, opened.label, report.left)
        }
        const r = report.right
        bar.stop(r.events, r.events)
        if (options.json === true) await print(JSON.stringify(r))
        else {
          if (r.events > 0) await printReport(r)
          await print(
            r.failed === 0
              ? `checked ${r.events} events in ${r.commits} commits: every event decodes`
              : `checked ${r.events} events in ${r.commits} commits: ${r.failed} ${r.failed === 1 ? 'does' : 'do'} not decode`,
          )
        }
        if (r.failed > 0) throw new CliError(`${r.failed} stored event${r.failed === 1 ? ' does' : 's do'} not decode`, 1)
      },
      config,
    )
  })()
