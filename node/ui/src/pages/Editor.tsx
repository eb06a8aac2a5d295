// Placeholder: this page is being built (issue 14).
export function EditorPage({ name }: { name?: string }) {
  return <section><h1>{name ?? "New application"}</h1></section>;
}
