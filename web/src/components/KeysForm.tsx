import { useState, type FormEvent } from 'react';
import { FaceApi } from '../api/client';
import { useAction } from '../hooks/useAction';
import { useKeys } from '../session/keys';
import { ErrorBanner } from './ErrorBanner';

/**
 * The appKey and secretKey the server printed at first start (or `facerec apps create`). They are
 * checked with one cheap call (list one group) before being kept for this browser tab.
 */
export function KeysForm() {
  const { save } = useKeys();
  const [appKey, setAppKey] = useState('');
  const [secretKey, setSecretKey] = useState('');
  const { attempt, busy, error } = useAction();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const keys = { appKey: appKey.trim(), secretKey: secretKey.trim() };
    if (await attempt(() => new FaceApi(keys).listGroups(1))) save(keys);
  };

  return (
    <form className="card keys" onSubmit={submit} data-testid="keys-form">
      <h2>Connect</h2>
      <p className="muted">
        Enter an app's keys. They stay in this tab's session storage and go only to this server's API (<code>/v2.0/appkeys/…</code>,{' '}
        <code>Authorization</code> header).
      </p>
      <label>
        appKey
        <input value={appKey} onChange={(e) => setAppKey(e.target.value)} autoComplete="username" required data-testid="app-key" />
      </label>
      <label>
        secretKey
        <input type="password" value={secretKey} onChange={(e) => setSecretKey(e.target.value)} autoComplete="current-password" required data-testid="secret-key" />
      </label>
      <button type="submit" disabled={busy} data-testid="connect">
        {busy ? 'Checking…' : 'Connect'}
      </button>
      <ErrorBanner error={error} />
    </form>
  );
}
