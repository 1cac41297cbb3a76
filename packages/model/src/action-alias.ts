/**
 * Action aliases: chat commands for an action, StackStorm style (`aliases/*.yaml` in a pack).
 * For now they are loaded and checked only; nothing matches chat messages against them yet.
 */
import { NAME_PATTERN, PACK_NAME_PATTERN, REF_PATTERN } from './refs.ts';

/** One way to write the command: what help shows, and the texts a message is matched against. */
export interface ActionAliasFormat {
  /** Shown in help; the first representation when the file gives none. */
  display: string;
  /** Each with `{{ name }}` / `{{ name=default }}` placeholders for action parameters. */
  representations: string[];
}

/** A message about an alias's execution: the acknowledgement, or the result. */
export interface ActionAliasMessage {
  enabled: boolean;
  /** A template (`{{ execution.result.stdout }}`); the chat bot's default when absent. */
  format?: string;
}

/** A chat command for an action, from `aliases/<name>.yaml`. */
export interface ActionAlias {
  /** `pack.name`. */
  ref: string;
  pack: string;
  name: string;
  description?: string;
  enabled: boolean;
  /** The action the command runs. */
  actionRef: string;
  formats: ActionAliasFormat[];
  ack?: ActionAliasMessage & { appendUrl?: boolean };
  result?: ActionAliasMessage;
}

const message = {
  type: 'object',
  additionalProperties: false,
  required: ['enabled'],
  properties: {
    enabled: { type: 'boolean', default: true },
    format: { type: 'string', maxLength: 4096 },
  },
} as const;

const formatText = { type: 'string', minLength: 1, maxLength: 1024 } as const;

export const actionAliasSchema = {
  $id: 'reflex:action-alias',
  type: 'object',
  additionalProperties: false,
  required: ['ref', 'pack', 'name', 'enabled', 'actionRef', 'formats'],
  properties: {
    ref: { type: 'string', pattern: REF_PATTERN },
    pack: { type: 'string', pattern: PACK_NAME_PATTERN },
    name: { type: 'string', pattern: NAME_PATTERN },
    description: { type: 'string', maxLength: 4096 },
    enabled: { type: 'boolean', default: true },
    actionRef: { type: 'string', pattern: REF_PATTERN },
    formats: {
      type: 'array',
      minItems: 1,
      maxItems: 100,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['display', 'representations'],
        properties: {
          display: formatText,
          representations: { type: 'array', minItems: 1, maxItems: 100, items: formatText },
        },
      },
    },
    ack: { ...message, properties: { ...message.properties, appendUrl: { type: 'boolean' } } },
    result: message,
  },
} as const;

/** A `{{ name }}` or `{{ name=default }}` of a format. */
export interface AliasPlaceholder {
  name: string;
  /** The text after `=`, trimmed; absent when there is none. */
  default?: string;
}

export interface ParsedAliasFormat {
  placeholders: AliasPlaceholder[];
  /** What is wrong with the text's placeholders, one sentence each; empty when it is sound. */
  problems: string[];
}

const PLACEHOLDER_RE = /\{\{(.*?)\}\}/gs;
const PLACEHOLDER_BODY_RE = /^\s*([A-Za-z_][A-Za-z0-9_-]*)\s*(?:=\s*(.*?)\s*)?$/s;

/**
 * The placeholders of one format text, in order. A `{{ … }}` that is not a name (with an optional
 * `=default`), a stray `{{` or `}}`, and a name written twice are problems.
 */
export function parseAliasFormat(text: string): ParsedAliasFormat {
  const placeholders: AliasPlaceholder[] = [];
  const problems: string[] = [];
  for (const match of text.matchAll(PLACEHOLDER_RE)) {
    const body = PLACEHOLDER_BODY_RE.exec(match[1] ?? '');
    const name = body?.[1];
    if (body === null || name === undefined) {
      problems.push(`'${match[0]}' is not a placeholder: write {{ name }} or {{ name=default }}`);
      continue;
    }
    if (placeholders.some((p) => p.name === name)) {
      problems.push(`placeholder '${name}' appears twice`);
      continue;
    }
    const fallback = body[2];
    placeholders.push(fallback === undefined ? { name } : { name, default: fallback });
  }
  const rest = text.replace(PLACEHOLDER_RE, '');
  if (rest.includes('{{') || rest.includes('}}')) problems.push('has a {{ without its }} (or a }} without its {{)');
  return { placeholders, problems };
}

/**
 * What a message must look like to match the format: the text with every placeholder as `{{}}` and
 * runs of white space as one space. Two formats with the same shape match the same messages.
 */
export function aliasFormatShape(text: string): string {
  return text.replace(PLACEHOLDER_RE, '{{}}').replace(/\s+/g, ' ').trim();
}
