import { ApiError } from '../api/client';
import { resultHint } from '../lib/resultCodes';

/** Shows NHN's resultCode and resultMessage as the server sent them, plus what they usually mean. */
export function ErrorBanner({ error }: { error: unknown }) {
  if (!error) return null;
  if (error instanceof ApiError && error.header) {
    const { resultCode, resultMessage } = error.header;
    const hint = resultHint(resultCode);
    return (
      <div className="error" role="alert" data-testid="error">
        <strong>
          {resultCode} {resultMessage}
        </strong>
        {hint && <span> — {hint}</span>}
      </div>
    );
  }
  return (
    <div className="error" role="alert" data-testid="error">
      <strong>Error</strong> — {error instanceof Error ? error.message : String(error)}
    </div>
  );
}
