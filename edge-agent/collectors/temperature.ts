// CPU temperature from sysfs, in millidegrees Celsius: a thermal zone of a CPU type
// (Documentation/driver-api/thermal/sysfs-api.rst), else a CPU hwmon chip's temp1_input
// (Documentation/hwmon/sysfs-interface.rst). No sensor means no field, and no complaint.
import { readdirSync } from 'node:fs';
import { round1 } from '../rates.ts';
import type { Reading } from '../sampler.ts';
import { KeptOpenFile, readText, type Collector } from './collector.ts';

/** Thermal zone types that measure the CPU: Raspberry Pi / Broadcom, Intel package, many ARM SoCs. */
const CPU_ZONE_TYPES = ['cpu-thermal', 'cpu_thermal', 'x86_pkg_temp', 'soc_thermal'];
/** hwmon drivers of CPU sensors: Intel, AMD, and the Pi's when exposed through hwmon. */
const CPU_HWMON_NAMES = ['coretemp', 'k10temp', 'cpu_thermal'];

// Sensors can appear after the agent starts (a driver module loading late in boot), so when none
// was found, look again now and then rather than on every sample.
const REDISCOVER_EVERY = 60;

function list(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

function readTrimmed(path: string): string | undefined {
  try {
    return readText(path).trim();
  } catch {
    return undefined;
  }
}

/** The file to read the CPU temperature from, or undefined when this machine has none. */
export function findCpuTemperatureFile(sysRoot: string): string | undefined {
  const thermal = `${sysRoot}/class/thermal`;
  const zones = list(thermal).filter((z) => z.startsWith('thermal_zone'));
  for (const type of CPU_ZONE_TYPES) {
    for (const zone of zones) {
      if (readTrimmed(`${thermal}/${zone}/type`) === type) return `${thermal}/${zone}/temp`;
    }
  }
  const hwmon = `${sysRoot}/class/hwmon`;
  const chips = list(hwmon);
  for (const name of CPU_HWMON_NAMES) {
    for (const chip of chips) {
      if (readTrimmed(`${hwmon}/${chip}/name`) === name) return `${hwmon}/${chip}/temp1_input`;
    }
  }
  return undefined;
}

export function createTemperatureCollector(sysRoot: string): Collector {
  let file: KeptOpenFile | undefined;
  let searchedAt = -Infinity;
  let calls = 0;
  return {
    name: 'temperature',
    collect(out: Reading) {
      calls++;
      if (file === undefined && calls - searchedAt >= REDISCOVER_EVERY) {
        const path = findCpuTemperatureFile(sysRoot);
        file = path === undefined ? undefined : new KeptOpenFile(path, { singleRecord: true });
        searchedAt = calls;
      }
      if (file === undefined) return;
      let text = '';
      try {
        text = file.read().trim();
      } catch {
        // unreadable: handled as garbage below
      }
      const milli = text ? Number(text) : NaN;
      if (!Number.isFinite(milli)) {
        file.close();
        file = undefined; // the sensor went away or reads garbage: search again later
        return;
      }
      out.temp_c = round1(milli / 1000);
    },
    close: () => file?.close(),
  };
}
