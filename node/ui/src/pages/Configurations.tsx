// Placeholder: this page is being built (issue 14).
export function ConfigurationsPage() {
  return <section><h1>Configurations</h1></section>;
}
