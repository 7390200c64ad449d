import { InvalidArgumentError } from 'commander';

/** A commander parser for an integer option within the API's range, so mistakes fail before any request. */
export const intIn = (min: number, max: number) => (raw: string): number => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`must be an integer from ${min} to ${max}`);
  return n;
};

export { SPOOF_CONDITIONS } from '../engine/spoof.js';
