#!/usr/bin/env python3
# The board's twin on a PC: sample.py's Publisher, as main.py runs it on an ESP32, over paho-mqtt
# (1.6, Debian's python3-paho-mqtt, or 2.x) instead of umqtt.simple, with readings from a simulated
# board. It sends the bytes a board sends for those readings, so a hub can be tried with no board.
# Each payload it sends is printed on a line of its own.
#
#   python3 cpython_twin.py --host HUB --node NODE --token TOKEN [--port 1883] [--interval 10] [--count N]
import argparse
import sys
import threading
import time

import paho.mqtt.client as mqtt

import sample


class UmqttOnPaho:
    """The part of umqtt.simple's MQTTClient that sample.Publisher uses, on paho-mqtt."""

    def __init__(self, client_id, server, port=1883, user=None, password=None, keepalive=0):
        if hasattr(mqtt, 'CallbackAPIVersion'):  # paho-mqtt 2.x
            self.paho = mqtt.Client(mqtt.CallbackAPIVersion.VERSION1, client_id=client_id, protocol=mqtt.MQTTv311)
        else:
            self.paho = mqtt.Client(client_id=client_id, protocol=mqtt.MQTTv311)
        self.paho.username_pw_set(user, password)
        self.paho.reconnect_delay_set(1, 5)
        self.server, self.port, self.keepalive = server, port, keepalive

    def set_last_will(self, topic, msg, retain=False, qos=0):
        self.paho.will_set(topic.decode(), msg, qos, retain)

    def connect(self):
        """Returns once the broker has accepted the connection; OSError if it refused."""
        answered = threading.Event()
        result = {}

        def on_connect(client, userdata, flags, rc):
            result['rc'] = rc
            answered.set()

        self.paho.on_connect = on_connect
        self.paho.connect(self.server, self.port, self.keepalive or 60)
        self.paho.loop_start()
        if not answered.wait(10) or result['rc'] != 0:
            self.paho.loop_stop()
            raise OSError('the broker refused the connection: %s' % mqtt.connack_string(result.get('rc', 3)))

    def publish(self, topic, msg, retain=False, qos=0):
        info = self.paho.publish(topic.decode(), msg, qos, retain)
        if qos > 0:
            info.wait_for_publish(10)  # umqtt.simple waits for the PUBACK too


class SimulatedBoard:
    """What main.py's read() gets on an ESP32, made up but plausible: a heap that moves, a warm chip, a WiFi signal."""

    def __init__(self):
        self.started = time.time()
        self.n = 0

    def read(self):
        self.n += 1
        alloc = 48_000 + (self.n * 1_337) % 9_000
        free = 158_000 - alloc
        fields = sample.heap(free, alloc)
        fields.append(('uptime_s', int(time.time() - self.started)))
        fields.append(('temp_c', sample.fahrenheit(118 + self.n % 3)))  # esp32.raw_temperature(), °F
        series = [('wifi_rssi_dbm', [('ssid', 'twin')], -55 - self.n % 7)]
        return fields, series


def main():
    parser = argparse.ArgumentParser(description='The twin of examples/micropython/main.py: JSON samples of a simulated board to a remonitor hub.')
    parser.add_argument('--host', required=True)
    parser.add_argument('--port', type=int, default=1883)
    parser.add_argument('--node', required=True, help='the name enrolled with `remonitor node add NAME`')
    parser.add_argument('--token', required=True, help='the token it printed (the MQTT password)')
    parser.add_argument('--interval', type=float, default=10, help='seconds between samples')
    parser.add_argument('--count', type=int, default=0, help='stop sending after this many, staying connected (0: never stop)')
    args = parser.parse_args()

    # As main.py: the node's name as user name and client id, the token as password.
    client = UmqttOnPaho(args.node, args.host, port=args.port, user=args.node, password=args.token, keepalive=max(10, int(3 * args.interval)))
    publisher = sample.Publisher(client, args.node)
    board = SimulatedBoard()
    try:
        publisher.connect()
    except OSError as err:
        print('cpython_twin: %s' % err, file=sys.stderr)
        sys.exit(1)
    print('cpython_twin: node %s boot %s' % (args.node, publisher.boot), file=sys.stderr, flush=True)
    sent = 0
    while True:
        if args.count == 0 or sent < args.count:
            print(publisher.send(*board.read()).decode('utf-8'), flush=True)
            sent += 1
        time.sleep(args.interval)


if __name__ == '__main__':
    main()
