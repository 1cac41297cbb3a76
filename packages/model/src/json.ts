/** JSON values as they travel through events, parameters and results. */
export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** A JSON Schema document, kept opaque: ajv reads it, nothing else in Reflex does. */
export type JsonSchema = Record<string, unknown>;
