/**
 * Summarises a V8 CPU profile (`node --cpu-prof`): self time by function and by file, top entries first.
 *
 *   npm run profile -- <file.cpuprofile> [top]
 */
import { readFileSync } from 'node:fs'

interface Node {
  readonly id: number
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number }
  readonly children?: readonly number[]
}
interface Profile {
  readonly nodes: readonly Node[]
  readonly samples: readonly number[]
  readonly timeDeltas: readonly number[]
  readonly startTime: number
  readonly endTime: number
}

// Piped into head: stop quietly when the reader goes away.
process.stdout.on('error', () => process.exit(0))
const [file, topArg] = process.argv.slice(2)
if (file === undefined) throw new Error('usage: profileSummary <file.cpuprofile> [top]')
const top = Number(topArg ?? 25)
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const self = new Map<number, number>()
profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)))
const total = [...self.values()].reduce((a, b) => a + b, 0)

const short = (url: string): string =>
  url === '' ? '(native)' : url.replace(/^file:\/\//, '').replace(/.*\/node_modules\//, 'nm:').replace(/.*\/work\/main\//, '')

const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v)
const fns = new Map<string, number>()
const files = new Map<string, number>()
for (const [id, us] of self) {
  const n = byId.get(id)
  if (n === undefined) continue
  const f = short(n.callFrame.url)
  add(fns, `${n.callFrame.functionName || '(anonymous)'}  ${f}:${n.callFrame.lineNumber + 1}`, us)
  add(files, f.startsWith('nm:') ? f.split('/').slice(0, f.startsWith('nm:@') ? 2 : 1).join('/') : f, us)
}
const print = (title: string, m: Map<string, number>) => {
  console.log(`\n${title} (self time, ${(total / 1000).toFixed(0)} ms sampled)`)
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${((us / total) * 100).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(1).padStart(8)} ms  ${k}`)
  }
}
print('functions', fns)
print('files / packages', files)
