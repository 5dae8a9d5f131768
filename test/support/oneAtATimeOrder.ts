/**
 * The serial-order search of the group-commit properties (test/{mysql,postgres}/groupCommit.test.ts): an order of a
 * turn's attempts (indexes) in which a reference store, fed one attempt at a time, answers exactly `answers` and
 * stores exactly `log`; undefined when there is none. Depth-first: stored attempts must come in token order, and a
 * refused one may be placed wherever the reference would answer it so. `replay` builds a fresh reference that took
 * `order` and then `next`, and reads a reference's log in the form `log` has.
 */
export interface Replay<R> {
  readonly answerAfter: (order: readonly number[], next: number) => Promise<{ readonly answer: unknown; readonly reference: R }>
  readonly logOf: (reference: R) => Promise<readonly unknown[]>
}

export const oneAtATimeOrder = async <R>(answers: readonly unknown[], log: readonly unknown[], replay: Replay<R>): Promise<number[] | undefined> => {
  const all = answers.map((_, at) => at)
  const stored = all.filter((at) => 'ok' in (answers[at] as object))
  stored.sort((a, b) => (answers[a] as { token: number }).token - (answers[b] as { token: number }).token)
  const refused = all.filter((at) => !stored.includes(at))
  const dead = new Set<string>()
  const search = async (order: number[], storedSoFar: number): Promise<number[] | undefined> => {
    if (order.length === answers.length) {
      const { reference } = await replay.answerAfter(order.slice(0, -1), order[order.length - 1] as number)
      return JSON.stringify(await replay.logOf(reference)) === JSON.stringify(log) ? order : undefined
    }
    const key = [...order].sort((a, b) => a - b).join(',')
    if (dead.has(key)) return undefined
    const next = [...(storedSoFar < stored.length ? [stored[storedSoFar] as number] : []), ...refused.filter((at) => !order.includes(at))]
    for (const at of next) {
      const { answer } = await replay.answerAfter(order, at)
      if (JSON.stringify(answer) !== JSON.stringify(answers[at])) continue
      const found = await search([...order, at], storedSoFar + (stored.includes(at) ? 1 : 0))
      if (found !== undefined) return found
    }
    dead.add(key)
    return undefined
  }
  return search([], 0)
}
