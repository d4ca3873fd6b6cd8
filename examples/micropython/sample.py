# remonitor's JSON sample (PROTOCOL.md, "JSON samples") and the publisher that sends it, shared by
# the board (main.py, MicroPython) and its twin on a PC (cpython_twin.py, CPython): both run this
# code, so the twin sends exactly the bytes a board sends for the same readings.
#
# The JSON is written here, not by json.dumps: MicroPython on an ESP32 computes in single precision
# and prints floats, key order and non-ASCII text its own way. So keys go out in the order given,
# text is escaped the same way everywhere, and a fraction is a Fixed (whole tenths, from integer
# arithmetic), written as digits.
import binascii
import os


class Fixed:
    """A number with one decimal, held as whole tenths: Fixed(436) is written 43.6."""

    def __init__(self, tenths):
        self.tenths = int(tenths)


def pct(part, whole):
    """part of whole as a percentage, rounded to tenths; None when whole is 0."""
    if whole <= 0:
        return None
    return Fixed((part * 2000 + whole) // (2 * whole))


def fahrenheit(f):
    """A whole °F reading (the original ESP32's esp32.raw_temperature()) in °C, to tenths."""
    return Fixed(((f - 32) * 100 + 9) // 18)


def heap(free, alloc):
    """The board's heap (gc.mem_free(), gc.mem_alloc()) as the sample's memory fields."""
    total = free + alloc
    fields = [('mem_total_bytes', total), ('mem_used_bytes', alloc), ('mem_available_bytes', free)]
    used = pct(alloc, total)
    if used is not None:
        fields.append(('mem_pct', used))
    return fields


def _text(s):
    out = ['"']
    for c in s:
        if c == '"' or c == '\\':
            out.append('\\' + c)
        elif ord(c) < 0x20:
            out.append('\\u%04x' % ord(c))
        else:
            out.append(c)  # anything else as it is, in UTF-8
    out.append('"')
    return ''.join(out)


def _number(value):
    if isinstance(value, Fixed):
        t = value.tenths
        return '%s%d.%d' % ('-' if t < 0 else '', abs(t) // 10, abs(t) % 10)
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError('a sample value is an int or a Fixed, got %r' % (value,))
    return '%d' % value


def payload(boot, seq, fields, series=()):
    """
    The JSON sample as bytes. fields: (name, value) pairs of PROTOCOL.md's key table, in the order
    to send; series: (name, [(label, text), ...], value) rows, e.g.
    ('wifi_rssi_dbm', [('ssid', 'home')], -61). Values are ints or Fixed.
    """
    parts = ['"v":1', '"boot":' + _text(boot), '"seq":%d' % seq]
    for name, value in fields:
        parts.append(_text(name) + ':' + _number(value))
    if series:
        rows = []
        for name, labels, value in series:
            pairs = ','.join(_text(k) + ':' + _text(v) for k, v in labels)
            rows.append('[' + _text(name) + ',{' + pairs + '},' + _number(value) + ']')
        parts.append('"series":[' + ','.join(rows) + ']')
    return ('{' + ','.join(parts) + '}').encode('utf-8')


def new_boot():
    """A boot id: random, new at every reset of the board (16 hex digits)."""
    return binascii.hexlify(os.urandom(8)).decode()


class Publisher:
    """
    Sends samples for one node through a client with umqtt.simple's MQTTClient methods
    (set_last_will, connect, publish): a retained "online" on connect, "offline" as the last will,
    and each sample with this boot id and the next seq.
    """

    def __init__(self, client, node, boot=None):
        self.client = client
        self.boot = boot or new_boot()
        self.seq = 0
        self.status_topic = ('remonitor/%s/status' % node).encode()
        self.sample_topic = ('remonitor/%s/json' % node).encode()

    def connect(self):
        self.client.set_last_will(self.status_topic, b'offline', retain=True, qos=1)
        self.client.connect()
        self.client.publish(self.status_topic, b'online', retain=True, qos=1)

    def send(self, fields, series=()):
        """Publishes one sample (QoS 0, as remonitor's agent sends live samples) and returns its bytes."""
        data = payload(self.boot, self.seq, fields, series)
        self.seq += 1  # counted even if the send fails: the hub sees a gap, never two samples under one seq
        self.client.publish(self.sample_topic, data)
        return data
