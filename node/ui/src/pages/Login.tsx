// Sign in with a user name and password or with an API key.
import { useState, type FormEvent } from "react";
import { ApiError, signIn } from "../api";
import { ErrorBox } from "../components/common";

export function LoginPage({ reason }: { reason?: string }) {
  const [mode, setMode] = useState<"password" | "key">("password");
  const [user, setUser] = useState("");
  const [password, setPassword] = useState("");
  const [apiKey, setApiKey] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await signIn(mode === "password" ? { user, password } : { apiKey });
    } catch (err) {
      // The API's 401 text is written for API clients; say it for people.
      if (err instanceof ApiError && err.status === 401) {
        setError(
          new ApiError(
            401,
            mode === "password"
              ? "Sign-in failed: the user name or password is wrong (authentication failed)."
              : "Sign-in failed: the API key is not valid, expired or revoked (authentication failed).",
          ),
        );
      } else {
        setError(err);
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="login">
      <form onSubmit={submit} aria-label="Sign in">
        <h1>Integration Service</h1>
        {reason ? <p className="notice">{reason}</p> : null}
        <div className="tabs" role="tablist">
          <button type="button" role="tab" aria-selected={mode === "password"} onClick={() => setMode("password")}>
            User and password
          </button>
          <button type="button" role="tab" aria-selected={mode === "key"} onClick={() => setMode("key")}>
            API key
          </button>
        </div>
        {mode === "password" ? (
          <>
            <label>
              User
              <input name="user" autoComplete="username" autoFocus value={user} onChange={(e) => setUser(e.target.value)} />
            </label>
            <label>
              Password
              <input
                name="password"
                type="password"
                autoComplete="current-password"
                value={password}
                onChange={(e) => setPassword(e.target.value)}
              />
            </label>
          </>
        ) : (
          <label>
            API key
            <input name="api-key" type="password" autoFocus value={apiKey} onChange={(e) => setApiKey(e.target.value)} />
          </label>
        )}
        <ErrorBox error={error} />
        <button type="submit" className="primary" disabled={busy}>
          Sign in
        </button>
      </form>
    </div>
  );
}
