/**
 * @reflex/config: the one validated configuration of a Reflex process and the names of every
 * environment variable Reflex reads. It depends on the model only, so the `reflex` client commands
 * can read their settings without loading the bus or the store (@reflex/runtime re-exports it).
 */
export * from './config.ts';
