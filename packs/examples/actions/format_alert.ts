/**
 * examples.format_alert: a `nodejs` action. The default export gets the validated parameters and
 * a context (logger, the pack's config, an AbortSignal); what it returns is the result.
 * `import type` is erased when the file runs, so the action needs nothing installed.
 */
import type { ActionContext } from '@reflex/runners';

interface Params {
  host: string;
  metric: string;
  value: number;
  warning: number;
  critical: number;
}

export default async function formatAlert(params: Params, ctx: ActionContext) {
  const severity = params.value >= params.critical ? 'critical' : params.value >= params.warning ? 'warning' : 'ok';
  ctx.logger.info({ host: params.host, severity }, 'classified');
  const prefix = typeof ctx.config['prefix'] === 'string' ? `${ctx.config['prefix']} ` : '';
  return {
    severity,
    text: `${prefix}${params.host}: ${params.metric} at ${params.value} (${severity})`,
  };
}
