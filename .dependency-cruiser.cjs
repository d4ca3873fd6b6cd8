// The layers, written down once and checked by `npm test` (npm run lint):
//   protocol ← shared ← edge-agent, auth ← broker ← hub ← web ← cli
// protocol/ is the wire contract and imports nothing of ours; shared/ holds what several layers use
// (the metric registry, API types, logger, options); the agent ships as one bundle, so it takes only
// protocol/ and shared/, and only cli/ (and the bundle entry) may import it; browser code in
// web/client/ takes only protocol/ and shared/. Inside hub/, storage sits below the features, and the
// features use its contract (hub/storage/*.ts), not a backend folder.
const layer = (name, mayNotUse, comment) => ({
  name,
  comment,
  severity: 'error',
  from: { path: `^${name}/` },
  to: { path: `^(${mayNotUse.join('|')})/` },
});

module.exports = {
  forbidden: [
    layer('protocol', ['shared', 'edge-agent', 'auth', 'broker', 'hub', 'web', 'cli'], 'the wire contract stands alone'),
    layer('shared', ['edge-agent', 'auth', 'broker', 'hub', 'web', 'cli'], 'shared/ sits just above protocol/'),
    layer('edge-agent', ['auth', 'broker', 'hub', 'web', 'cli'], 'the agent bundle takes only protocol/ and shared/'),
    layer('auth', ['edge-agent', 'broker', 'hub', 'web', 'cli'], 'credentials sit below the broker and the hub'),
    layer('broker', ['edge-agent', 'hub', 'web', 'cli'], 'the broker knows nothing of the hub'),
    layer('hub', ['edge-agent', 'web', 'cli'], 'the hub never imports the web tier or the agent'),
    layer('web', ['edge-agent', 'cli'], 'the web tier sits below the CLI'),
    {
      name: 'storage-backends-apart',
      comment: 'the SQLite and PostgreSQL stores share only what is in hub/storage/ itself',
      severity: 'error',
      from: { path: '^hub/storage/(sqlite|postgres)/' },
      to: { path: '^hub/storage/(sqlite|postgres)/', pathNot: '^hub/storage/$1/' },
    },
    {
      name: 'storage-below-features',
      comment: 'storage knows nothing of the alarms, integrations, group or node lifecycle built on it',
      severity: 'error',
      from: { path: '^hub/storage/' },
      to: { path: '^hub/(alarms|integrations|group|nodes)/' },
    },
    {
      name: 'features-on-the-contract',
      comment: 'ingest, sessions, integrations and the group use the storage contract, never one backend',
      severity: 'error',
      from: { path: '^hub/(ingest|sessions|integrations|group)/' },
      to: { path: '^hub/storage/(sqlite|postgres)/' },
    },
    {
      name: 'browser-code',
      comment: 'pages run in the browser: they take only protocol/, shared/ and web/client/',
      severity: 'error',
      from: { path: '^web/client/' },
      to: { path: '^(edge-agent|auth|broker|hub|cli)/|^web/(?!client/)' },
    },
    {
      name: 'no-tests-in-product',
      severity: 'error',
      from: { pathNot: '^(test|bench)/' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      extensions: ['.ts', '.mjs', '.js', '.json'],
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'types', 'default'],
    },
  },
};
