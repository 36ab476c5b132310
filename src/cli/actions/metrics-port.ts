// --metrics-port for `start` and `relay` alike: the server is started by the
// command's own serve function (each loads prom-client and the page only
// then); a port that cannot be had is a MetricsServerError naming the
// setting, and the addresses are logged once it listens.
import { MetricsServerError } from '../../errors.js';
import type { Logger } from '../../log/logger.js';

export async function serveMetricsPort<T extends { port: number }>(
  settings: { metricsHost: string; metricsPort?: number },
  logger: Logger,
  serve: (host: string, port: number) => Promise<T>,
): Promise<T | undefined> {
  const { metricsHost: host, metricsPort: port } = settings;
  if (port === undefined) return undefined;
  const served = await serve(host, port).catch((error: Error) => {
    throw new MetricsServerError(`cannot serve metrics on ${host}:${port} (--metrics-port): ${error.message}`, { cause: error });
  });
  const base = `http://${host.includes(':') ? `[${host}]` : host}:${served.port}`;
  logger.info(`status page on ${base}/ (metrics on ${base}/metrics, health on ${base}/healthz)`);
  return served;
}
