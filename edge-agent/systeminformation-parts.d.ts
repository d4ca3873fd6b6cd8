// Types for the systeminformation modules that edge-agent/systeminformation.ts loads one by one:
// the package types only its index, which re-exports these same functions from them.
declare module 'systeminformation/lib/osinfo.js' {
  export { osInfo, time } from 'systeminformation';
}
declare module 'systeminformation/lib/cpu.js' {
  export { cpu, cpuTemperature, currentLoad } from 'systeminformation';
}
declare module 'systeminformation/lib/memory.js' {
  export { mem } from 'systeminformation';
}
declare module 'systeminformation/lib/filesystem.js' {
  export { fsSize, fsStats } from 'systeminformation';
}
declare module 'systeminformation/lib/network.js' {
  export { networkStats } from 'systeminformation';
}
declare module 'systeminformation/lib/processes.js' {
  export { processes } from 'systeminformation';
}
