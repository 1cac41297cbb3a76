export { launch, SERVICE_NAMES, type Launched, type ServiceName } from './launch.ts';
export { buildCli, runCli } from './cli.ts';
