// Placeholder: this page is being built (issue 14).
export function SyncPacksPage() {
  return <section><h1>SyncPacks</h1></section>;
}
