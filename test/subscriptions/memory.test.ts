import { afterAll } from 'vitest'
import { memoryStore } from 'aett/memory'
import { subscriptionContract } from 'aett/testing/contract'

// The subscription contract on the reference store, with the full 20,000-commit backlog of the flat-memory case.
const figures: string[] = []
afterAll(() => {
  if (figures.length > 0) console.info(`subscription figures\n  ${figures.join('\n  ')}`)
})

subscriptionContract({
  name: 'memory',
  create: async () => memoryStore(),
  dispose: async (store) => {
    await store.drop()
    await store.close()
  },
  scale: { backlog: 20_000, batchSize: 100 },
  onFigure: (figure, value, unit) => void figures.push(`${figure}: ${value} ${unit}`),
})
