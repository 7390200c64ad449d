import { ApiError } from '../api/client';
import { resultHint } from '../lib/resultCodes';

/**
 * Shows NHN's resultCode and resultMessage as the server sent them, then why: the server's own
 * reason (header.detail) when it gives one, else what the code usually means.
 */
export function ErrorBanner({ error }: { error: unknown }) {
  if (!error) return null;
  if (error instanceof ApiError && error.header) {
    const { resultCode, resultMessage, detail } = error.header;
    const reason = detail ?? resultHint(resultCode);
    return (
      <div className="error" role="alert" data-testid="error">
        <strong>
          {resultCode} {resultMessage}
        </strong>
        {reason && <span data-testid={detail ? 'error-detail' : 'error-hint'}> — {reason}</span>}
      </div>
    );
  }
  return (
    <div className="error" role="alert" data-testid="error">
      <strong>Error</strong> — {error instanceof Error ? error.message : String(error)}
    </div>
  );
}
