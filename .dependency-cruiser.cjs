/**
 * Architecture checks run by `npm test`: no import cycles, no deep imports into another
 * package (only its src/index.ts entry), packages never depend on services, and the pure
 * packages (model, rules) do no I/O.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Import cycles make modules impossible to reason about and to load in order.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-deep-imports',
      severity: 'error',
      comment: "Another package is reached only through its public entry (src/index.ts), by its @reflex/ name.",
      from: { path: '^(packages|services)/([^/]+)/' },
      to: {
        path: '^(packages|services)/[^/]+/',
        pathNot: ['^$1/$2/', '^(packages|services)/[^/]+/src/index\\.ts$'],
      },
    },
    {
      name: 'packages-below-services',
      severity: 'error',
      comment: 'packages/ are libraries; services/ wire them together. Never the other way round.',
      from: { path: '^packages/' },
      to: { path: '^services/' },
    },
    {
      name: 'pure-packages-do-no-io',
      severity: 'error',
      comment: 'The model, the rule matcher and auth are pure: testable with no server, no port, no disk. (Their tests may read fixtures.)',
      from: { path: '^packages/(model|rules|auth)/src/', pathNot: '\\.test\\.ts$' },
      to: { dependencyTypes: ['core'], path: '^(node:)?(fs|fs/promises|net|http|https|http2|dgram|child_process|cluster|worker_threads|tls|dns)$' },
    },
    {
      name: 'pure-packages-no-clients',
      severity: 'error',
      from: { path: '^packages/(model|rules|auth)/src/', pathNot: '\\.test\\.ts$' },
      to: { path: 'node_modules/(@nats-io|mongodb|fastify|pino)' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)node_modules/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.js', '.json'] },
  },
};
