export { startChatNotifier, type ChatNotifierDeps } from './notifier.ts';
export { loadChatConfig } from './chat-config.ts';
