/**
 * JSON values as they are stored. Bodies and headers are JSON so that every store can keep them without
 * knowing the domain types; codecs turn them back into typed events at the boundary.
 */
export type Json = null | boolean | number | string | JsonArray | JsonObject
export type JsonArray = readonly Json[]
export interface JsonObject {
  readonly [key: string]: Json
}

/** Commit and event headers: string keys (dots allowed) to JSON values. */
export type Headers = JsonObject

/** An event body as stored: a JSON object whose `type` names its topic. */
export interface EncodedEvent extends JsonObject {
  readonly type: string
}
