// Express 4 under an npm alias (devDependency "express4": "npm:express@4…"), typed as the
// Express the tests import: they use only the API both majors share.
declare module 'express4' {
  import express from 'express';
  export default express;
}
