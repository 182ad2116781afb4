/**
 * A real ClickHouse server of the test's own (Debian's clickhouse-server 18.16,
 * which .ci/run installs), on free loopback ports with its own config and data
 * directory, stopped and removed after the test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort } from './nats-server.ts';
import { tempDir } from './workspace.ts';

export const CLICKHOUSE_BIN = process.env.NOETL_TEST_CLICKHOUSE_SERVER ?? '/usr/sbin/clickhouse-server';

export interface TestClickHouse {
  /** `http://default:@127.0.0.1:<port>/default`, the form the clickhouse tool's credential takes. */
  url: string;
  stop(): Promise<void>;
}

export async function startClickHouse(): Promise<TestClickHouse> {
  if (!fs.existsSync(CLICKHOUSE_BIN)) throw new Error(`clickhouse-server not found at ${CLICKHOUSE_BIN} (apt-get install clickhouse-server)`);
  const dir = tempDir('noetl-clickhouse-');
  const [http, tcp] = [await freePort(), await freePort()];
  const config = `<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>${dir}/server.log</log><errorlog>${dir}/server.err.log</errorlog><size>10M</size><count>1</count></logger>
  <http_port>${http}</http_port>
  <tcp_port>${tcp}</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <path>${dir}/data/</path>
  <tmp_path>${dir}/tmp/</tmp_path>
  <user_files_path>${dir}/user_files/</user_files_path>
  <format_schema_path>${dir}/format_schemas/</format_schema_path>
  <users_config>${dir}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>53687091</mark_cache_size>
</yandex>`;
  const users = `<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>`;
  fs.writeFileSync(path.join(dir, 'config.xml'), config);
  fs.writeFileSync(path.join(dir, 'users.xml'), users);
  const child: ChildProcess = spawn(CLICKHOUSE_BIN, [`--config-file=${path.join(dir, 'config.xml')}`], { stdio: 'ignore' });
  const base = `http://127.0.0.1:${http}`;
  for (let i = 0; ; i++) {
    const up = await fetch(`${base}/ping`).then((r) => r.ok, () => false);
    if (up) break;
    if (i > 200 || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`clickhouse-server did not start on port ${http}: ${fs.existsSync(path.join(dir, 'server.err.log')) ? fs.readFileSync(path.join(dir, 'server.err.log'), 'utf8').slice(-2000) : 'no log'}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: `http://default:@127.0.0.1:${http}/default`,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
