// Stand-in for Node's `module` in the browser bundle (see next.config.js).
export default {};
export const createRequire = undefined;
