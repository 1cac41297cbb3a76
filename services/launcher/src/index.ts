export { launch, SERVICE_NAMES, type Launched, type LaunchOptions, type ServiceName } from './launch.ts';
export { buildCli, runCli } from './cli.ts';
export { ADMIN_KEY_FILE, SECRETS_KEY_FILE } from './auth-setup.ts';
export { testPacks, type PackTestOptions, type PackTestReport, type PackTestResult, type PackTestSummary } from './pack-test/run.ts';
