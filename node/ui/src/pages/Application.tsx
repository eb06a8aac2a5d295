// Placeholder: this page is being built (issue 14).
export function ApplicationPage({ name }: { name: string }) {
  return <section><h1>{name}</h1></section>;
}
