// Fails fast when npm scripts do not run on Node 22 (node-seal 7 and vitest 5 need it).
// The project pins Node 22 through the `node` devDependency, so `npm run …` picks it up
// from node_modules/.bin even where the system Node is older.
const major = Number(process.versions.node.split('.')[0]);
if (major !== 22) {
  console.error(
    `This project needs Node 22 (found ${process.version}). Run \`npm install\` so the pinned ` +
      '`node` devDependency is installed, then use `npm run …` / `npm test` / `npm start`.',
  );
  process.exit(1);
}
