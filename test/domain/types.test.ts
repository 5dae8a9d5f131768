import { describe, expect, it } from 'vitest'
import { Aggregate, Saga, type Handlers, type Memento } from '../../src/domain/index.js'
import type { Deposited, Renamed } from './fixtures.js'

// These classes are checked by `tsc` (the test folder is type-checked): each `@ts-expect-error` proves that an
// aggregate or saga that forgets a handler for one of its event types does not compile.

export class Forgetful extends Aggregate<null, Deposited | Renamed> {
  // @ts-expect-error Property 'Renamed' is missing: every event type of the union needs a handler
  protected readonly handlers: Handlers<Deposited | Renamed> = {
    Deposited: () => {},
  }
  getMemento(): Memento<null> {
    return { id: this.id, version: this.version, payload: null }
  }
  applyMemento(): void {}
}

export class ForgetfulUnannotated extends Aggregate<null, Deposited | Renamed> {
  // @ts-expect-error the inferred map lacks 'Renamed', so it does not implement the abstract `handlers`
  protected readonly handlers = { Deposited: (_: Deposited) => {} }
  getMemento(): Memento<null> {
    return { id: this.id, version: this.version, payload: null }
  }
  applyMemento(): void {}
}

export class ForgetfulSaga extends Saga<Deposited | Renamed> {
  // @ts-expect-error Property 'Deposited' is missing
  protected readonly handlers: Handlers<Deposited | Renamed> = { Renamed: () => {} }
}

export class Complete extends Aggregate<null, Deposited | Renamed> {
  protected readonly handlers: Handlers<Deposited | Renamed> = { Deposited: () => {}, Renamed: () => {} }
  getMemento(): Memento<null> {
    return { id: this.id, version: this.version, payload: null }
  }
  applyMemento(): void {}
}

describe('handler maps', () => {
  it('compile only when complete (checked by tsc; see the @ts-expect-error lines)', () => {
    expect(new Complete('x').version).toBe(0)
  })
})
