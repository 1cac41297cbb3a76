/** `reflex sensor list|get`: pack sensors and what the sensors process running each reports. */
import type { Command } from 'commander';
import type { SensorStatus, SensorView } from '@reflex/model';
import type { CliContext } from '../context.ts';
import { shortTime, type Colour } from '../output.ts';
import { act, type Session } from '../session.ts';

function full(view: SensorView): SensorStatus | undefined {
  return 'ref' in view.status ? view.status : undefined;
}

function stateColour(state: string): Colour | undefined {
  if (state === 'running') return 'green';
  if (state === 'backoff') return 'red';
  if (state === 'disabled' || state === 'stopped' || state === 'unknown') return 'dim';
  return 'yellow';
}

export function sensorCommands(program: Command, ctx: CliContext): void {
  const sensor = program.command('sensor').description('pack sensors: their state, where they run, what they emitted');
  sensor
    .command('list')
    .description('sensors of registered packs, with their status')
    .option('--pack <pack>')
    .action(
      act(ctx, async (s: Session, opts: { pack?: string }) => {
        const { items } = await s.client.sensors.list(opts.pack === undefined ? {} : { pack: opts.pack });
        if (s.json) return s.out.data(items);
        s.out.table(items, [
          { header: 'REF', value: (v) => v.ref },
          { header: 'STATE', value: (v) => v.status.state, colour: (v) => stateColour(v.status.state) },
          { header: 'HOST', value: (v) => full(v)?.host ?? '' },
          { header: 'PID', value: (v) => String(full(v)?.pid ?? '') },
          { header: 'RESTARTS', value: (v) => String(full(v)?.restarts ?? ''), colour: (v) => ((full(v)?.restarts ?? 0) > 0 ? 'yellow' : undefined) },
          { header: 'EMITTED', value: (v) => String(full(v)?.emitted ?? '') },
          { header: 'LAST EMIT', value: (v) => shortTime(full(v)?.lastEmitAt) },
          { header: 'LAST ERROR', value: (v) => full(v)?.lastError?.message ?? '', colour: () => 'red', max: 60 },
        ]);
      }),
    );
  sensor
    .command('get')
    .description('one sensor: its definition and status')
    .argument('<ref>')
    .action(
      act(ctx, async (s: Session, ref: string) => {
        const view = await s.client.sensors.get(ref);
        if (s.json) return s.out.data(view);
        const status = full(view);
        s.out.fields([
          ['ref', view.ref],
          ['description', view.description],
          ['entry point', view.entryPoint],
          ['trigger types', view.triggerTypes.join(', ')],
          ['poll interval', view.pollInterval === undefined ? undefined : `${view.pollInterval}s`],
          ['state', view.status.state, stateColour(view.status.state)],
          ['host', status?.host],
          ['holder', status?.holder],
          ['pid', status?.pid === undefined ? undefined : String(status.pid)],
          ['started', shortTime(status?.startedAt) || undefined],
          ['restarts', status === undefined ? undefined : String(status.restarts)],
          ['next start', shortTime(status?.nextStartAt) || undefined],
          ['emitted', status === undefined ? undefined : String(status.emitted)],
          ['refused', status === undefined ? undefined : String(status.refused)],
          ['poll errors', status === undefined ? undefined : String(status.pollErrors)],
          ['last emit', shortTime(status?.lastEmitAt) || undefined],
          ['last error', status?.lastError === undefined ? undefined : `${status.lastError.message} (${shortTime(status.lastError.at)})`, 'red'],
          ['updated', shortTime(status?.updatedAt) || undefined],
        ]);
      }),
    );
}
