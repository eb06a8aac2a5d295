// Placeholder: this page is being built (issue 14).
export function ReportsPage() {
  return <section><h1>Reports</h1></section>;
}
