// Placeholder: this page is being built (issue 14).
export function SchedulesPage() {
  return <section><h1>Schedules</h1></section>;
}
