/** @reflex/api-client: the Reflex API as typed calls (fetch), and a Server-Sent Events reader. */
export {
  ReflexClient,
  type ClientOptions,
  type OutputEvent,
  type PackConfigView,
  type PackDetail,
  type PackFileError,
  type PackRegistration,
  type PackUnregistration,
  type Page,
  type PageQuery,
  type WhoAmI,
} from './client.ts';
export { ApiError, errorOf } from './errors.ts';
export { SseParser, type SseEvent } from './sse.ts';
