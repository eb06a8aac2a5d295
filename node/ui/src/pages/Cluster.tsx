// Placeholder: this page is being built (issue 14).
export function ClusterPage() {
  return <section><h1>Cluster</h1></section>;
}
