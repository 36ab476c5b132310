// vitest global setup for the integration project: starts the shared source and
// replica once per run, hands their addresses to the test files through
// `provide`, and removes them afterwards.
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { startTestServers, type TestServers } from './servers.js';

declare module 'vitest' {
  export interface ProvidedContext {
    servers: TestServers;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const { servers, managed } = await startTestServers();
  project.provide('servers', servers);
  const describe = (s: TestServers[keyof TestServers]): string => `${s.role} ${s.flavor} ${s.version} on ${s.host}:${s.port} (${s.kind})`;
  console.log(`integration servers: ${describe(servers.source)}; ${describe(servers.replica)}`);
  return async () => {
    await Promise.all(managed.map((m) => m.destroy()));
  };
}
