// The wire contract shared by agent, broker, hub and web. Depends on nothing but cbor-x and valibot (the commands' schema).
export * from './topics.ts';
export * from './sample.ts';
export * from './info.ts';
export * from './codec.ts';
export * from './duration.ts';
export * from './ack.ts';
export * from './metrics.ts';
