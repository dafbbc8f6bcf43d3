/**
 * `npm run bench`: each benchmark side by side with its baseline, in one run, one JSON object per
 * benchmark. `-- --json` prints only the JSON lines; `-- --quick` runs small sizes (CI checks the
 * benchmarks still run); `-- --only name[,name]` runs some; `-- --sizes 10000` sets fan-out sizes.
 */
import { parseArgs } from 'node:util';
import { gateHotPath } from './gate-hot-path.ts';
import { killPath } from './kill-path.ts';
import { revocation } from './revocation.ts';
import { propagation } from './propagation.ts';
import { coldStart } from './cold-start.ts';
import { fanOut } from './fan-out.ts';
import { stateFeed } from './state-feed.ts';
import { peers } from './peers.ts';
import { cliStartup } from './cli-startup.ts';

process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    sizes: { type: 'string' },
  },
});
const BENCHMARKS: Record<string, (o: { quick: boolean }) => Promise<Record<string, unknown>>> = {
  'gate-hot-path': gateHotPath,
  'kill-path': killPath,
  propagation,
  revocation,
  'fan-out': (o) => fanOut({ ...o, sizes: values.sizes ? values.sizes.split(',').map(Number) : undefined }),
  'cold-start': coldStart,
  'state-feed': stateFeed,
  'cli-startup': cliStartup,
  peers,
};
const selected = values.only ? values.only.split(',') : Object.keys(BENCHMARKS);
for (const name of selected) {
  const bench = BENCHMARKS[name];
  if (!bench) {
    console.error(`unknown benchmark "${name}" (have: ${Object.keys(BENCHMARKS).join(', ')})`);
    process.exit(2);
  }
  if (!values.json) console.error(`running ${name}${values.quick ? ' (quick)' : ''}…`);
  const result = await bench({ quick: values.quick });
  console.log(JSON.stringify({ ...result, quick: values.quick, node: process.version, at: new Date().toISOString() }));
}
