import { createHash } from 'node:crypto'

// A fixed namespace so that the same key always gives the same id, and aett's ids never collide with another
// application's name-based UUIDs over the same keys.
const NAMESPACE = Buffer.from('6f1c4bde9a2e4c7e8a51c0d3b2e7a9f4', 'hex')

/**
 * A commit id derived from a key such as a command id: a name-based UUID (version 5), so that handling the same
 * command twice tries the same commit id and the second attempt is recognised as `AlreadyCommitted`
 * (SEMANTICS 18), and stores that keep commit ids as UUIDs accept it.
 */
export const commitIdFrom = (key: string): string => {
  const hash = createHash('sha1').update(NAMESPACE).update(key, 'utf8').digest()
  const b = hash.subarray(0, 16)
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x50
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80
  const hex = b.toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}
