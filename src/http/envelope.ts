import { RESULT_CODES, type ResultName } from '../domain/errors.js';

/**
 * NHN's response envelope: HTTP 200 always, success or failure carried in `header`. `detail` is
 * facerec's extension (docs/api-compatibility.md): on failures only, the reason in one sentence;
 * NHN's own fields keep NHN's values, and JSON clients skip a field they do not know.
 */
export interface Envelope<T = unknown> {
  header: { isSuccessful: boolean; resultCode: number; resultMessage: string; detail?: string };
  data?: T;
}

export function success<T>(data?: T, partial?: 'ServiceQuotaExceededPartialSuccessException'): Envelope<T> {
  const name: ResultName = partial ?? 'Success';
  return {
    header: { isSuccessful: true, resultCode: RESULT_CODES[name], resultMessage: name },
    ...(data !== undefined ? { data } : {}),
  };
}

export function failure(resultName: ResultName, code: number, detail: string): Envelope<never> {
  return { header: { isSuccessful: false, resultCode: code, resultMessage: resultName, detail } };
}
