/**
 * `reflex pack init NAME`: a pack that passes validation and does something on the first try — an
 * action (a shell script), a rule that runs it when its webhook is called, test cases that
 * `reflex pack test` runs offline (tests/*.yaml), a sample event for `reflex rule test`, and a README
 * that walks through it.
 */
import { PACK_NAME_PATTERN } from '@reflex/model';
import { UsageError } from './output.ts';

export interface ScaffoldFile {
  path: string;
  content: string;
  executable?: boolean;
}

const packNameRe = new RegExp(PACK_NAME_PATTERN);

export function checkPackName(name: string): void {
  if (!packNameRe.test(name)) {
    throw new UsageError(`'${name}' is not a pack name`, [{ field: 'NAME', message: 'lower-case letters, digits, _ and -, starting with a letter or digit (at most 64)' }]);
  }
}

export function scaffoldPack(name: string, options: { description?: string; coreVersion?: string } = {}): ScaffoldFile[] {
  checkPackName(name);
  const url = `${name}/greet`;
  const description = options.description ?? `The ${name} pack`;
  return [
    {
      path: 'pack.yaml',
      content: [
        `name: ${name}`,
        'version: 0.1.0',
        `description: ${JSON.stringify(description)}`,
        'author: you',
        'dependencies:',
        `  core: ^${options.coreVersion ?? '0.1.0'}     # core.webhook, used by the rule`,
        '',
      ].join('\n'),
    },
    {
      path: 'actions/greet.yaml',
      content: [
        'name: greet',
        'description: Says hello (a shell script; its parameters arrive as PARAM_* variables)',
        'runner_type: local-shell-script',
        'entry_point: greet.sh',
        'parameters:',
        '  name:',
        '    type: string',
        '    description: Who to greet',
        '    required: true',
        '  greeting:',
        '    type: string',
        '    default: Hello',
        '',
      ].join('\n'),
    },
    {
      path: 'actions/greet.sh',
      executable: true,
      content: ['#!/bin/sh', '# Parameters are data, never shell text: always quote them.', 'set -eu', 'echo "$PARAM_GREETING, $PARAM_NAME!"', ''].join('\n'),
    },
    {
      path: 'rules/greet_on_webhook.yaml',
      content: [
        'name: greet_on_webhook',
        `description: Greets whoever a POST to /v1/webhooks/${url} names`,
        'enabled: true',
        'trigger:',
        '  type: core.webhook',
        `  parameters: { url: ${url} }`,
        'criteria:                         # JSON-logic over { payload, event }',
        '  exists: payload.body.name',
        'action:',
        `  ref: ${name}.greet`,
        '  parameters:',
        '    name: "{{ payload.body.name }}"',
        '    greeting: "{{ payload.body.greeting | default: \'Hello\' }}"',
        '',
      ].join('\n'),
    },
    {
      path: 'tests/greets.yaml',
      content: [
        '# A test case: `reflex pack test` sends the event through the real rules engine (offline: the',
        '# action does not run) and checks what the rules do. One case a file; see packs/README.md.',
        'description: a POST naming someone runs the greet action for them',
        'event:',
        '  trigger: core.webhook',
        `  parameters: { url: ${url} }`,
        '  payload: { body: { name: Ada } }      # the request: body (headers and query default to {})',
        'expect:',
        `  fire: [${name}.greet_on_webhook]       # exactly the rules that fire`,
        '  actions:                               # the executions requested, in order',
        `    - action: ${name}.greet`,
        '      parameters: { name: Ada, greeting: Hello }',
        '',
      ].join('\n'),
    },
    {
      path: 'tests/no-name.yaml',
      content: [
        'description: a POST that names nobody runs nothing',
        'event:',
        '  trigger: core.webhook',
        `  parameters: { url: ${url} }`,
        '  payload: { body: { greeting: Hi } }',
        'expect:',
        '  fire: []',
        '  actions: []',
        '',
      ].join('\n'),
    },
    {
      path: 'tests/greet.event.json',
      content: `${JSON.stringify({ type: 'core.webhook', triggerParameters: { url }, payload: { body: { name: 'Ada' }, headers: {}, query: {} } }, null, 2)}\n`,
    },
    {
      path: 'README.md',
      content: [
        `# ${name}`,
        '',
        description,
        '',
        '| what | file |',
        '|---|---|',
        `| action \`${name}.greet\` | \`actions/greet.yaml\` runs \`actions/greet.sh\` |`,
        `| rule \`${name}.greet_on_webhook\` | \`rules/greet_on_webhook.yaml\`: a POST to \`/v1/webhooks/${url}\` with a \`name\` runs the action |`,
        '| test cases | `tests/*.yaml`: events and what the rules must do about them (`reflex pack test`) |',
        '| a sample event | `tests/greet.event.json` (for `reflex rule test`) |',
        '',
        '## Try it',
        '',
        '```sh',
        `reflex pack validate ${name}                 # every problem, with file:line and field`,
        `reflex pack test ${name}                     # run tests/*.yaml through the rules engine, offline`,
        `# put the folder where Reflex looks for packs (REFLEX_PACKS_PATH, default ./packs), then:`,
        `reflex pack register ${name}`,
        `reflex rule test ${name}.greet_on_webhook --event ${name}/tests/greet.event.json   # would it fire, and with what?`,
        `curl -s -X POST http://127.0.0.1:8180/v1/webhooks/${url} -H 'content-type: application/json' -d '{"name":"Ada"}'`,
        `reflex execution list --action ${name}.greet`,
        `reflex run ${name}.greet name=Grace           # run the action by hand and see its output`,
        '```',
        '',
        'How packs are written (actions, rules, templates, the datastore): `packs/README.md` in the Reflex repository.',
        '',
      ].join('\n'),
    },
  ];
}
