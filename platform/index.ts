/** Shared adapters: configuration, database, bus, logging and the domains folder. */
export { loadConfig, redactUrl, CONFIG_VARIABLES, type Config, type LogLevel, type PoolSpec, type PythonSandboxMode } from './config/config.ts';
export { openDatabase, preparedAs, type Database, type DatabaseTarget, type Db } from './database/database.ts';
export { migrate, readMigrations, type Migration, type MigrationReport } from './database/migrator.ts';
export type { ParentCommand, Schema } from './database/schema.ts';
export * from './bus/index.ts';
export { createLogger, redact, type Logger } from './log/logger.ts';
export { loadDomains, type DomainsSnapshot, type LoadedDomain, type LoadedContract, type LoadedPlaybook } from './domains/load-domains.ts';
export * from './lineage/index.ts';
export { LocalArtifactStore } from './artifacts/local-store.ts';
export type { ArtifactClaim, ArtifactStore } from './artifacts/artifact-store.ts';
