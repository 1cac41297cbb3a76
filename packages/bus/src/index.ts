export type {
  Bus,
  BusMessage,
  ConsumeOptions,
  Consumer,
  MessageHandler,
  PublishAck,
  PublishOptions,
  StreamConfig,
  Subscription,
} from './bus.ts';
export { decodeJson, decodeText, encodeJson } from './bus.ts';
export type { BusLogger } from './logger.ts';
export { createNatsBus, type NatsBusOptions } from './nats-bus.ts';
export { createEmbeddedBus, type EmbeddedBusOptions } from './embedded-bus.ts';
export { subjectMatches } from './subject-match.ts';
