// Where authentication and ACLs plug into Aedes: the one place the broker decides who may do what.
// On this footing every client is allowed but for publishing to `$SYS`, which is the broker's own
// [MQTT-4.7.2-1]; per-node credentials and topic ACLs come with the security issue.
import type { AedesOptions } from 'aedes';

export function accessHooks(): Pick<AedesOptions, 'authenticate' | 'authorizePublish' | 'authorizeSubscribe'> {
  return {
    authenticate: (_client, _username, _password, done) => done(null, true),
    authorizePublish: (_client, packet, done) => {
      if (packet.topic.startsWith('$SYS')) return done(new Error('publishing to $SYS is not allowed'));
      done(null);
    },
    authorizeSubscribe: (_client, subscription, done) => done(null, subscription),
  };
}
