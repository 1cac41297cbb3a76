/**
 * Console: the embedded default. One readable line per message on a sink the process hands in
 * (the launcher passes stdout), so a new user sees what would have reached chat without any
 * account. No network; updates are printed as their own line, marked `↻`.
 */
import { expectTarget, type ChatAdapter, type DeliveryReceipt, type SendOptions } from '../adapter.ts';
import { severityLabel, severitySymbol, type ChatMessage } from '../message.ts';
import type { TargetConfig } from '../targets.ts';

/** Anything with `write(string)`: process.stdout, a file stream, an array in a test. */
export interface ChatSink {
  write(line: string): unknown;
}

/** Control characters would let an alert body rewrite the terminal; newlines would break the one-line promise. */
function oneLine(text: string): string {
  return text.replace(/\r?\n/g, ' ⏎ ').replace(/[\u0000-\u0008\u000b-\u001f\u007f\u009b]/g, '');
}

/** `2025-01-01T00:00:00.000Z chat[oncall] 🔴 CRITICAL Disk full — db1 at 97% | host=db1 | Runbook <https://…> | thread=disk:db1` */
export function renderConsoleLine(target: string, message: ChatMessage, options: { followUp?: boolean; edit?: boolean; now?: number } = {}): string {
  const parts: string[] = [];
  let head = `${new Date(options.now ?? Date.now()).toISOString()} chat[${target}]`;
  if (options.followUp === true || options.edit === true) head += ' ↻';
  if (message.severity !== undefined) head += ` ${severitySymbol(message.severity)} ${severityLabel(message.severity)}`;
  head += message.title === undefined ? ` ${message.text}` : ` ${message.title} — ${message.text}`;
  parts.push(head);
  if (message.facts !== undefined && message.facts.length > 0) parts.push(message.facts.map((f) => `${f.key}=${f.value}`).join(' '));
  if (message.link !== undefined) parts.push(`${message.link.label ?? 'link'} <${message.link.url}>`);
  if (message.threadKey !== undefined) parts.push(`thread=${message.threadKey}`);
  return `${oneLine(parts.join(' | '))}\n`;
}

export function consoleAdapter(sink: ChatSink, now: () => number = Date.now): ChatAdapter {
  let sequence = 0;
  function write(target: TargetConfig, message: ChatMessage, mode: DeliveryReceipt['mode'], messageId?: string): DeliveryReceipt {
    const t = expectTarget(target, 'console');
    sink.write(renderConsoleLine(t.name, message, { followUp: mode === 'follow-up', edit: mode === 'edited', now: now() }));
    const receipt: DeliveryReceipt = { target: t.name, adapter: 'console', mode, messageId: messageId ?? `console-${++sequence}`, editable: true };
    if (message.threadKey !== undefined) receipt.threadKey = message.threadKey;
    return receipt;
  }
  return {
    kind: 'console',
    post: async (target, message, options: SendOptions) => write(target, message, options.followUp === true ? 'follow-up' : 'posted'),
    update: async (target, receipt, message) =>
      receipt?.adapter === 'console' && receipt.messageId !== undefined
        ? write(target, message, 'edited', receipt.messageId)
        : write(target, message, 'follow-up'),
  };
}
