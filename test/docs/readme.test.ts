import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'

const root = new URL('../../', import.meta.url)
const read = (path: string) => readFileSync(new URL(path, root), 'utf8')

/** Every TypeScript block in the README must be a verbatim excerpt of an example that is type-checked and run. */
describe('README', () => {
  const readme = read('README.md')
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] ?? '')
  const sources = [
    ...readdirSync(new URL('docs/examples/', root)).map((f) => read(`docs/examples/${f}`)),
  ].join('\n')

  it('shows code', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(4)
  })

  blocks.forEach((block, i) => {
    it(`code block ${i + 1} is an excerpt of docs/examples`, () => {
      expect(sources.includes(block), block.slice(0, 200)).toBe(true)
    })
  })

  it('quick start is the two documented commands', () => {
    expect(readme).toContain('npm install && npm run demo')
    expect(readme).toContain('npm test')
  })
})

describe('README demo transcript', () => {
  it('is the transcript that docs/demo.md shows (which test/demo checks against a real run)', () => {
    const readme = read('README.md')
    const transcript = /```text\n([\s\S]*?)```/.exec(readme)?.[1]
    expect(transcript).toBeDefined()
    expect(read('docs/demo.md')).toContain(transcript)
  })
})
