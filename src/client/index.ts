// The facerec TypeScript client: one class, its errors and the v2.0 wire types.
export { FacerecClient, type FacerecClientOptions } from './client.js';
export { FacerecApiError, FacerecProtocolError, ResultCodes } from './errors.js';
export type * from './types.js';
export type * from './person-types.js';
