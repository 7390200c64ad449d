import { KeysForm } from './components/KeysForm';
import { useHashRoute, type Route } from './hooks/useHashRoute';
import { ComparePage } from './pages/ComparePage';
import { DetectPage } from './pages/DetectPage';
import { GroupPage } from './pages/GroupPage';
import { GroupsPage } from './pages/GroupsPage';
import { PrivacyPage } from './pages/PrivacyPage';
import { useKeys } from './session/keys';

const TABS: { href: string; label: string; active(r: Route): boolean }[] = [
  { href: '#/detect', label: 'Detect', active: (r) => r.page === 'detect' },
  { href: '#/compare', label: 'Compare', active: (r) => r.page === 'compare' },
  { href: '#/groups', label: 'Groups', active: (r) => r.page === 'groups' || r.page === 'group' },
  { href: '#/privacy', label: 'Privacy', active: (r) => r.page === 'privacy' },
];

export function App() {
  const { keys, forget } = useKeys();
  const route = useHashRoute();

  return (
    <div className="app">
      <header className="topbar">
        <h1>
          facerec <span className="muted">console</span>
        </h1>
        {keys && (
          <nav>
            {TABS.map((t) => (
              <a key={t.href} href={t.href} className={t.active(route) ? 'active' : ''} data-testid={`tab-${t.label.toLowerCase()}`}>
                {t.label}
              </a>
            ))}
          </nav>
        )}
        {keys && (
          <span className="who">
            appKey <code data-testid="current-app-key">{keys.appKey}</code>
            <button type="button" className="link" onClick={forget} data-testid="forget-keys">
              forget keys
            </button>
          </span>
        )}
      </header>
      <main>{keys ? <Page route={route} /> : <KeysForm />}</main>
    </div>
  );
}

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case 'detect':
      return <DetectPage />;
    case 'compare':
      return <ComparePage />;
    case 'groups':
      return <GroupsPage />;
    case 'group':
      // keyed so that switching groups starts every panel afresh
      return <GroupPage key={route.groupId} groupId={route.groupId} />;
    case 'privacy':
      return <PrivacyPage />;
  }
}
