import { useCallback, useRef, useState } from 'react';

type Outcome<T> = { ok: true; value: T } | { ok: false };

/**
 * One user action at a time (a button press that calls the API): tracks whether it runs and
 * what went wrong; the caller shows the error. An answer to an older run is dropped when the
 * user started a newer one meanwhile.
 */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const generation = useRef(0);

  const execute = useCallback(async <T,>(action: () => Promise<T>): Promise<Outcome<T>> => {
    const mine = ++generation.current;
    setBusy(true);
    setError(null);
    try {
      const value = await action();
      return mine === generation.current ? { ok: true, value } : { ok: false };
    } catch (err) {
      if (mine === generation.current) setError(err);
      return { ok: false };
    } finally {
      if (mine === generation.current) setBusy(false);
    }
  }, []);

  /** The action's result, or undefined when it failed or was overtaken. */
  const run = useCallback(async <T,>(action: () => Promise<T>): Promise<T | undefined> => {
    const outcome = await execute(action);
    return outcome.ok ? outcome.value : undefined;
  }, [execute]);

  /** For actions without a result (create, delete): true when it succeeded. */
  const attempt = useCallback(async (action: () => Promise<unknown>): Promise<boolean> => (await execute(action)).ok, [execute]);

  return { run, attempt, busy, error };
}
