/**
 * An object that answers `overrides` itself and every other member of `target` (own or inherited, a class's
 * methods included) from `target`: methods bound to it, other values read from it when asked, so that they stay
 * live (`subscriptions`, `name`, a getter). It is not a Proxy, so the overridden methods cost a plain call.
 */
export const delegate = <T extends object>(target: T, overrides: Partial<T>): T => {
  const out: Record<PropertyKey, unknown> = {}
  const seen = new Set<PropertyKey>()
  for (let o: object | null = target; o !== null && o !== Object.prototype; o = Object.getPrototypeOf(o) as object | null) {
    for (const key of Reflect.ownKeys(o)) {
      if (key === 'constructor' || seen.has(key)) continue
      seen.add(key)
      if (Object.prototype.hasOwnProperty.call(overrides, key)) continue
      const descriptor = Object.getOwnPropertyDescriptor(o, key)
      const value = descriptor !== undefined && 'value' in descriptor ? (descriptor.value as unknown) : undefined
      if (typeof value === 'function') {
        const bound = (value as (...args: unknown[]) => unknown).bind(target)
        Object.defineProperty(out, key, { value: bound, enumerable: descriptor?.enumerable ?? false, writable: false, configurable: true })
      } else {
        Object.defineProperty(out, key, {
          get: () => (target as Record<PropertyKey, unknown>)[key],
          enumerable: descriptor?.enumerable ?? false,
          configurable: true,
        })
      }
    }
  }
  for (const key of Reflect.ownKeys(overrides)) {
    Object.defineProperty(out, key, { value: (overrides as Record<PropertyKey, unknown>)[key], enumerable: true, writable: false, configurable: true })
  }
  return out as T
}
