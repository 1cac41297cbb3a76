/** `reflex event list|get|send`. */
import type { Command } from 'commander';
import type { JsonObject, JsonValue } from '@reflex/model';
import { isObject, parseAssignments, parseSince, readInlineOrFile } from '../args.ts';
import type { CliContext } from '../context.ts';
import { shortTime, statusColour, UsageError } from '../output.ts';
import { act, type Session } from '../session.ts';

export function eventCommands(program: Command, ctx: CliContext): void {
  const event = program.command('event').description('events: list, show, send');

  event
    .command('list')
    .description('stored events, newest first')
    .option('--type <ref>', 'only this trigger type')
    .option('--since <when>', 'a time, or how long ago (24h, 30m)')
    .option('--until <when>', 'a time, or how long ago')
    .option('-n, --limit <n>', 'how many', '20')
    .action(
      act(ctx, async (s: Session, opts: { type?: string; since?: string; until?: string; limit: string }) => {
        const limit = Number(opts.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError('--limit must be 1-1000');
        const page = await s.client.events.list({
          ...(opts.type === undefined ? {} : { type: opts.type }),
          ...(opts.since === undefined ? {} : { since: parseSince(opts.since) }),
          ...(opts.until === undefined ? {} : { until: parseSince(opts.until) }),
          limit,
        });
        if (s.json) return s.out.data(page);
        s.out.table(page.items, [
          { header: 'ID', value: (e) => e.id },
          { header: 'TYPE', value: (e) => e.type },
          { header: 'SOURCE', value: (e) => e.source },
          { header: 'OCCURRED', value: (e) => shortTime(e.occurredAt) },
          { header: 'TRIGGER', value: (e) => (e.triggerParameters === undefined ? '' : JSON.stringify(e.triggerParameters)) },
        ]);
      }),
    );

  event
    .command('get')
    .description('one stored event, and what the rules did about it')
    .argument('<id>')
    .action(
      act(ctx, async (s: Session, id: string) => {
        const found = await s.client.events.get(id);
        if (s.json) return s.out.data(found);
        s.out.yaml(found);
        const { items } = await s.client.enforcements.ofEvent(id);
        s.out.line('enforcements:');
        if (items.length === 0) s.out.line('  (no rule matched)');
        for (const e of items) {
          const what = e.status === 'fired' ? `execution ${e.executionId ?? ''}` : (e.error?.message ?? '');
          s.out.line(`  ${e.rule} ${s.out.paint(e.status, statusColour(e.status))} ${what}`);
        }
      }),
    );

  event
    .command('send')
    .description('dispatch an event of a registered trigger type (POST /v1/events)')
    .argument('<type>', 'trigger type ref (core.interval, monitoring.disk_full)')
    .argument('[fields...]', 'payload fields as name=value (string fields take the text as typed, others JSON)')
    .option('--payload <json>', 'the whole payload as JSON, or @file (JSON or YAML)')
    .option('--trigger-parameters <json>', 'which trigger instance, as JSON or @file')
    .action(
      act(ctx, async (s: Session, type: string, fields: string[], opts: { payload?: string; triggerParameters?: string }) => {
        if (opts.payload !== undefined && fields.length > 0) throw new UsageError('give the payload as --payload or as name=value fields, not both');
        const cwd = s.ctx.settings.cwd;
        let payload: JsonValue;
        if (opts.payload !== undefined) payload = (await readInlineOrFile(opts.payload, cwd)) as JsonValue;
        else {
          // Fields the trigger type's payload schema types as strings keep the text as typed.
          const schema = fields.length === 0 ? undefined : (await s.client.triggerTypes.get(type)).payloadSchema;
          payload = parseAssignments(fields, 'payload field', schema);
        }
        let triggerParameters: JsonObject | undefined;
        if (opts.triggerParameters !== undefined) {
          const given = await readInlineOrFile(opts.triggerParameters, cwd);
          if (!isObject(given)) throw new UsageError('--trigger-parameters must be a JSON object');
          triggerParameters = given as JsonObject;
        }
        const sent = await s.client.events.send(type, payload, triggerParameters);
        if (s.json) return s.out.data(sent);
        s.out.line(sent.eventId);
        s.out.note(`see what it did: reflex event get ${sent.eventId}`, 'dim');
      }),
    );
}
