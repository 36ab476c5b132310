// Public API of the binlog-sync package (re-exports only).
export * from './errors.js';
export { loadSettings, type Settings, type SettingInputs } from './config/settings.js';
export { parseConnectionUrl, describeEndpoint, type Endpoint, type SslMode } from './config/connection-url.js';
export { resolveEndpoint, type Role } from './config/endpoints.js';
export { createLogger, type Logger } from './log/logger.js';
export { waitForReplica, WaitTimeoutError, type WaitForReplicaOptions } from './health/wait.js';
export { runReplicator, type ReplicatorOptions } from './replicator/replicator.js';
