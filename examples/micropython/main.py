# remonitor reference publisher for a board with MQTT and no OS: an ESP32 with MicroPython and
# umqtt.simple. Every INTERVAL_S it sends what the board knows of itself (heap, the chip's
# temperature, uptime, WiFi signal) as a JSON sample to the hub, with a boot id that is new at each
# reset and a seq that counts; "online" is retained on connect and "offline" is its last will.
# Copy sample.py and this file to the board (examples/micropython/README.md).
import gc
import time

import network
from umqtt.simple import MQTTClient

import sample

# ---- Adapt: your network, your hub, this board's credentials ------------------------------------
WIFI_SSID = 'your-ssid'
WIFI_PASSWORD = 'your-wifi-password'
HUB = '192.168.1.10'  # the hub's address
PORT = 1883  # its MQTT port
NODE = 'esp32-kitchen'  # the name enrolled on the hub with `remonitor node add esp32-kitchen`
TOKEN = 'rmt_paste-the-token-it-printed'  # the MQTT password
INTERVAL_S = 10
# -------------------------------------------------------------------------------------------------

STARTED_S = time.time()


def chip_temperature():
    """The chip's own sensor, or None. It reads the die, warmer than the room."""
    try:
        import esp32
    except ImportError:
        return None
    if hasattr(esp32, 'mcu_temperature'):  # ESP32-S2, -S3, -C3: whole °C
        return sample.Fixed(esp32.mcu_temperature() * 10)
    if hasattr(esp32, 'raw_temperature'):  # the original ESP32: whole °F, uncalibrated
        return sample.fahrenheit(esp32.raw_temperature())
    return None


def read(wlan):
    """
    ---- Adapt: what this board sends ----
    Fields by PROTOCOL.md's key table, in its units: ints, or sample.Fixed for tenths. Leave out what
    the board cannot tell. A value with no field of its own goes in `series` as (name, labels, value).
    A sensor that fails is left out of this sample, never sent as 0.
    """
    gc.collect()
    fields = sample.heap(gc.mem_free(), gc.mem_alloc())  # the heap stands for the memory
    fields.append(('uptime_s', int(time.time() - STARTED_S)))  # since this program started
    temperature = chip_temperature()
    if temperature is not None:
        fields.append(('temp_c', temperature))
    series = []
    if wlan.isconnected():
        series.append(('wifi_rssi_dbm', [('ssid', WIFI_SSID)], wlan.status('rssi')))
    return fields, series


def join_wifi():
    wlan = network.WLAN(network.STA_IF)
    wlan.active(True)
    if not wlan.isconnected():
        wlan.connect(WIFI_SSID, WIFI_PASSWORD)
        for _ in range(100):  # 20 s
            if wlan.isconnected():
                break
            time.sleep_ms(200)
    return wlan


def main():
    # The node's name is its client id too: the hub's broker takes a node's token under no other.
    client = MQTTClient(NODE, HUB, port=PORT, user=NODE, password=TOKEN, keepalive=3 * INTERVAL_S)
    publisher = sample.Publisher(client, NODE)
    print('remonitor: node', NODE, 'boot', publisher.boot)
    while True:
        try:
            wlan = join_wifi()
            publisher.connect()
            while True:
                publisher.send(*read(wlan))
                time.sleep(INTERVAL_S)
        except OSError as err:  # WiFi or the hub gone: the broker publishes "offline" for us
            print('remonitor: lost the hub (%s), trying again in 5 s' % err)
            try:
                client.sock.close()
            except Exception:
                pass
            time.sleep(5)


main()
