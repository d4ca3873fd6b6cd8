// The parts of systeminformation the agent uses (the birth record, and the sampler for platforms
// without /proc), each from its own module. The package's index loads all 25 of its modules at
// start (docker, wifi, printers, bluetooth, graphics, …): 140 KB more bundle and about 0.4 MiB
// more heap in the agent for code it never runs. Types: systeminformation-parts.d.ts.
export { osInfo, time } from 'systeminformation/lib/osinfo.js';
export { cpu, cpuTemperature, currentLoad } from 'systeminformation/lib/cpu.js';
export { mem } from 'systeminformation/lib/memory.js';
export { fsSize, fsStats } from 'systeminformation/lib/filesystem.js';
export { networkStats } from 'systeminformation/lib/network.js';
export { processes } from 'systeminformation/lib/processes.js';
