// Placeholder: this page is being built (issue 14).
export function IntegrationsPage() {
  return <section><h1>Integrations</h1></section>;
}
