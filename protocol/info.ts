// The birth record, retained on `remonitor/<node>/info`: a CBOR map with text keys (it is sent
// once per connection, so readability beats size here).

export interface DiskInfo {
  mount: string;
  fs_type: string;
  size_bytes: number;
}

export interface NodeInfo {
  v: number;
  agent_version: string;
  hostname: string;
  os: string;
  kernel: string;
  arch: string;
  cpu_model: string;
  cpu_cores: number;
  mem_total_bytes: number;
  disks: DiskInfo[];
  boot_time_ms: number;
  interval_ms: number;
  /** The node's non-loopback IP addresses (so a node can be picked by address); absent from older agents. */
  ip_addresses?: string[];
}
