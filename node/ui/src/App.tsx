// The frame of every page: sign-in gate, navigation and routes. Each page
// lives in pages/ and loads only what it shows (the API pages everything).
import { lazy, Suspense, useEffect, useState } from "react";
import { Link, Redirect, Route, Switch, useLocation } from "wouter";
import { currentSession, onSession, signOut, type Session } from "./api";
import { LoginPage } from "./pages/Login";
import { IntegrationsPage } from "./pages/Integrations";
import { ConfigurationsPage } from "./pages/Configurations";
import { StepsPage } from "./pages/Steps";
import { SyncPacksPage } from "./pages/SyncPacks";
import { SchedulesPage } from "./pages/Schedules";
import { ReportsPage } from "./pages/Reports";
import { ClusterPage } from "./pages/Cluster";

// The flowchart pages carry the graph canvas: loaded when first opened, so
// the first page (Integrations) stays small.
const ApplicationPage = lazy(() => import("./pages/Application").then((m) => ({ default: m.ApplicationPage })));
const EditorPage = lazy(() => import("./pages/Editor").then((m) => ({ default: m.EditorPage })));

const NAV: [string, string][] = [
  ["/integrations", "Integrations"],
  ["/configurations", "Configurations"],
  ["/steps", "Steps"],
  ["/syncpacks", "SyncPacks"],
  ["/schedules", "Schedules"],
  ["/reports", "Reports"],
  ["/cluster", "Cluster"],
];

export function App() {
  const [session, setSession] = useState<Session | null>(currentSession());
  const [reason, setReason] = useState<string | undefined>();
  const [location] = useLocation();
  useEffect(
    () =>
      onSession((s, why) => {
        setSession(s);
        setReason(why);
      }),
    [],
  );
  // An expired token is dropped even when no request notices it.
  useEffect(() => {
    if (!session) return;
    const left = session.expires_at * 1000 - Date.now();
    const t = setTimeout(() => {
      sessionStorage.removeItem("is-session");
      setSession(null);
      setReason("Your session has expired; sign in again.");
    }, Math.max(0, Math.min(left, 2 ** 31 - 1)));
    return () => clearTimeout(t);
  }, [session]);

  if (!session) return <LoginPage reason={reason} />;
  return (
    <div className="frame">
      <nav className="top" aria-label="Main">
        <Link href="/integrations" className="brand">
          Integration Service
        </Link>
        {NAV.map(([href, label]) => (
          <Link key={href} href={href} className={location.startsWith(href) ? "active" : ""}>
            {label}
          </Link>
        ))}
        <span className="spacer" />
        <span className="who" title={`role: ${session.role}`}>
          {session.name} <span className="muted">({session.role})</span>
        </span>
        <button onClick={() => signOut()}>Sign out</button>
      </nav>
      <main>
        <Suspense fallback={<p className="muted">Loading…</p>}>
        <Switch>
          <Route path="/integrations" component={IntegrationsPage} />
          <Route path="/apps/:name">{(p) => <ApplicationPage name={decodeURIComponent(p.name)} />}</Route>
          <Route path="/editor">{() => <EditorPage />}</Route>
          <Route path="/editor/:name">{(p) => <EditorPage name={decodeURIComponent(p.name)} />}</Route>
          <Route path="/configurations" component={ConfigurationsPage} />
          <Route path="/steps" component={StepsPage} />
          <Route path="/syncpacks" component={SyncPacksPage} />
          <Route path="/schedules" component={SchedulesPage} />
          <Route path="/reports" component={ReportsPage} />
          <Route path="/cluster" component={ClusterPage} />
          <Route path="/">
            <Redirect to="/integrations" />
          </Route>
          <Route>
            <p className="empty">There is no page at {location}.</p>
          </Route>
        </Switch>
        </Suspense>
      </main>
    </div>
  );
}
