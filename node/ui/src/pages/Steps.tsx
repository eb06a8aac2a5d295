// Placeholder: this page is being built (issue 14).
export function StepsPage() {
  return <section><h1>Steps</h1></section>;
}
