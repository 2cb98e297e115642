// npm scripts put node_modules/.bin first on PATH, where the `node` devDependency provides Node 24.
// Running a script with the machine's own older Node gives a confusing failure much later; say it now.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  console.error(
    `hostnic needs Node.js 24 or newer, but this is ${process.version}. ` +
      'Run "npm ci" first, then use npm scripts (npm test, npm start), which pick up the pinned Node 24 ' +
      'from node_modules/.bin.',
  );
  process.exit(1);
}
