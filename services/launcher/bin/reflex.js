#!/usr/bin/env node
// The `reflex` command. Reflex runs on Node 24 (pinned in the project's devDependencies, so `npx reflex`
// and npm scripts use it); an older Node gets a clear message instead of a syntax error.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(
    `reflex needs Node.js 24 or newer (this is ${process.version}). Run it through npm (\`npm start\`) or \`npx reflex\` in the project, which use the pinned Node 24.\n`,
  );
  process.exit(1);
}
// node:sqlite (the embedded store and bus) still announces itself as experimental on Node 24; that
// line would only confuse operators. Every other warning is printed as Node would.
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (warning.name === 'ExperimentalWarning' && /SQLite/i.test(warning.message)) return;
  process.stderr.write(`${warning.name}: ${warning.message}\n`);
});
// Keep what Node makes of our TypeScript (stripped types, compiled code) in its compile cache (the
// system temp dir, or NODE_COMPILE_CACHE; NODE_DISABLE_COMPILE_CACHE=1 turns it off): stripping the
// types of every module again is most of what a client command would spend before it starts.
const { enableCompileCache } = await import('node:module');
enableCompileCache?.();
const { runCli } = await import('../src/cli.ts');
await runCli(process.argv).catch((err) => {
  process.stderr.write(`reflex: ${err && err.message ? err.message : String(err)}\n`);
  process.exit(1);
});
